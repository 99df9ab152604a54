#!/usr/bin/env bash
# Build the takeover samples (samples/takeover/, see its README.md): eight HTTP servers and a gRPC
# server, each in a v1 and a structurally different v2, as runnable jars for the end-to-end tests,
# the benchmark and the demo (with the gRPC load client); and boot4-shop (samples/boot4-shop/, see
# its README.md), a realistic Spring Boot 4 service (JPA/Hibernate/H2, cache, actuator, validation,
# Thymeleaf; over 10,000 classes loaded) with the same command-line interface.
#
# Usage: scripts/build-takeover-samples.sh [OUT]   (default OUT: <repo>/target/samples/takeover)
#
# Produces:
#   OUT/jdk-httpserver-v1.jar  OUT/jdk-httpserver-v2.jar   javac --release 11, no dependencies
#   OUT/plain-socket-v1.jar    OUT/plain-socket-v2.jar     javac --release 11, no dependencies
#   OUT/spring-boot-v1.jar     OUT/spring-boot-v2.jar      Maven, Spring Boot fat jars (Java 17)
#   OUT/netty-epoll-v1.jar     OUT/netty-epoll-v2.jar      Maven, shaded jars (--release 11)
#   OUT/grpc-v1.jar            OUT/grpc-v2.jar             Maven, grpc-java servers, shaded (--release 17)
#   OUT/grpc-load.jar                                      Maven, the gRPC load client (same project)
#   OUT/jetty12-v1.jar         OUT/jetty12-v2.jar          Maven, shaded jars (Java 17): embedded Jetty 12
#   OUT/undertow-v1.jar        OUT/undertow-v2.jar         Maven, shaded jars (Java 17): embedded Undertow
#   OUT/vertx5-v1.jar          OUT/vertx5-v2.jar           Maven, shaded jars (Java 17): Vert.x 5 core
#   OUT/micronaut4-v1.jar      OUT/micronaut4-v2.jar       Maven, shaded jars (Java 17): Micronaut 4 (Netty)
# and two builds of the Spring Boot app for `jhot deploy`, each spring-boot-v1.jar with one entry
# replaced (so that everything else, META-INF included, is byte-identical to v1):
#   OUT/spring-boot-v1b.jar        BOOT-INF/classes/.../HelloController.class from module v1b
#                                  (three method bodies changed: hot-redefinable)
#   OUT/spring-boot-v1-props.jar   BOOT-INF/classes/application.properties with
#                                  spring-boot/v1-props/append.properties appended
# and the four builds of boot4-shop (Maven, Spring Boot 4.0.7 fat jars, Java 17):
#   OUT/boot4-shop-v1.jar          the base
#   OUT/boot4-shop-v2.jar          structural change (HelloController: new field and method)
#   OUT/boot4-shop-v1b.jar         v1 with BOOT-INF/classes/jhot/sample/shop/HelloController.class
#                                  from module v1b (the body of version() changed: hot-redefinable)
#   OUT/boot4-shop-v1-res.jar      v1 with BOOT-INF/classes/templates/vets.html from
#                                  boot4-shop/v1-res/ (one resource changed)
#
# Needs a JDK 17+ and, for the Maven apps (all but jdk-httpserver and plain-socket), `mvn` and Maven Central (or a filled ~/.m2: Maven
# runs offline first and goes online only when that fails). JDK: the first JDK 17+ of $JAVA_HOME,
# /usr/lib/jvm/java-17-openjdk-amd64 and the javac on PATH. Build output stays in the samples'
# target/ folders (gitignored); OUT gets copies of the jars above. The four spliced jars need python3.
#
# Idempotent: each app is rebuilt only when a hash of its sources (and of this script and the JDK)
# differs from the stamp in OUT/.stamps/, or when one of its jars is missing from OUT.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
S="$REPO/samples/takeover"
OUT="${1:-$REPO/target/samples/takeover}"
SELF="$REPO/scripts/$(basename "${BASH_SOURCE[0]}")"

log() { echo "build-takeover-samples.sh: $*" >&2; }
die() { log "$*"; exit 1; }

# shellcheck source=find-jdk17.sh
source "$REPO/scripts/find-jdk17.sh"
export JAVA_HOME="$JDK"
export PATH="$JAVA_HOME/bin:$PATH"
JAVAC_VERSION="$("$JAVA_HOME/bin/javac" -version 2>&1)"

mkdir -p "$OUT/.stamps" "$S/target"
# One build at a time (tests may call this concurrently): the Maven target/ folders are shared.
if command -v flock >/dev/null; then
    exec 9>"$S/target/.build.lock"
    flock -w 1800 9 || die "timed out waiting for another build-takeover-samples.sh"
fi

app_dir() { # where APP's sources are
    case "$1" in
        boot4-shop) echo "$REPO/samples/boot4-shop" ;;
        *) echo "$S/$1" ;;
    esac
}

# hash of an app's sources (everything under its app_dir but target/ and *.md), this script and the JDK
src_hash() {
    local app="$1" dir
    dir="$(app_dir "$app")"
    {
        (cd "$(dirname "$dir")" && find "$(basename "$dir")" -type f -not -path '*/target/*' -not -name '*.md' -print0 | sort -z | xargs -0 sha256sum)
        sha256sum <"$SELF"
        echo "$JAVA_HOME $JAVAC_VERSION"
    } | sha256sum | cut -d' ' -f1
}

versions() { # the jars OUT gets for APP
    case "$1" in
        spring-boot) echo "v1 v2 v1b v1-props" ;;
        grpc) echo "v1 v2 load" ;;
        boot4-shop) echo "v1 v2 v1b v1-res" ;;
        *) echo "v1 v2" ;;
    esac
}

up_to_date() { # up_to_date APP HASH
    local app="$1" hash="$2" v
    for v in $(versions "$app"); do [[ -f "$OUT/$app-$v.jar" ]] || return 1; done
    [[ -f "$OUT/.stamps/$app" && "$(cat "$OUT/.stamps/$app")" == "$hash" ]]
}

install_jar() { # install_jar SRC NAME: copy into OUT, atomically
    cp "$1" "$OUT/.$2.tmp"
    mv -f "$OUT/.$2.tmp" "$OUT/$2"
}

build_javac() { # build_javac APP MAIN_CLASS: no dependencies, javac --release 11
    local app="$1" main="$2" v t files f
    for v in v1 v2; do
        t="$S/$app/target/$v"
        rm -rf "$t"
        mkdir -p "$t/classes"
        files=()
        while IFS= read -r -d '' f; do files+=("$f"); done < <(
            find "$S/$app/common/src" "$S/$app/$v/src" -name '*.java' -print0 | sort -z)
        "$JAVA_HOME/bin/javac" --release 11 -g -encoding UTF-8 -Xlint:-options -d "$t/classes" "${files[@]}"
        "$JAVA_HOME/bin/jar" --create --file "$t/$app-$v.jar" --main-class "$main" \
            -C "$t/classes" .
        install_jar "$t/$app-$v.jar" "$app-$v.jar"
    done
}

mvn_package() { # mvn_package POM: offline first, online when that fails; output shown on failure only
    local pom="$1" tmp rc=0
    tmp="$(mktemp)"
    # (Maven 3.8 prints stray ANSI resets even with -B -q, hence the capture.)
    if ! mvn -B -q -o -f "$pom" clean package >"$tmp" 2>&1; then
        log "  (offline build failed; going online to Maven Central, the first build downloads dependencies)"
        mvn -B -q -f "$pom" clean package >"$tmp" 2>&1 || rc=$?
    fi
    if [[ $rc -ne 0 ]]; then
        sed -E 's/\x1b\[[0-9;]*m//g' "$tmp" >&2
        rm -f "$tmp"
        die "Maven failed for $pom"
    fi
    rm -f "$tmp"
}

# splice_jar IN OUT ENTRY FILE [append]: copy the jar IN to OUT with ENTRY's content replaced by
# FILE (or, with `append`, ENTRY's content followed by FILE). Every other entry is copied as it is:
# same order, bytes, timestamps and compression (Spring Boot needs BOOT-INF/lib/*.jar STORED).
splice_jar() {
    command -v python3 >/dev/null || die "python3 is required to build $(basename "$2")"
    python3 - "$@" <<'PY'
import shutil, sys, zipfile
src, dst, entry, file = sys.argv[1:5]
append = len(sys.argv) > 5 and sys.argv[5] == "append"
new = open(file, "rb").read()
found = False
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst + ".tmp", "w") as zout:
    zout.comment = zin.comment
    for info in zin.infolist():
        data = zin.read(info)
        if info.filename == entry:
            data = data + new if append else new
            found = True
        zout.writestr(info, data)
if not found:
    sys.exit(f"splice_jar: no entry {entry} in {src}")
shutil.move(dst + ".tmp", dst)
PY
}

build_maven() {
    local app="$1" dir v
    dir="$(app_dir "$app")"
    command -v mvn >/dev/null || die "mvn not found (install maven)"
    mvn_package "$dir/pom.xml"
    for v in v1 v2; do
        install_jar "$dir/$v/target/$app-$v.jar" "$app-$v.jar"
    done
    if [[ $app == grpc ]]; then
        install_jar "$dir/load/target/$app-load.jar" "$app-load.jar"
    fi
    if [[ $app == spring-boot ]]; then
        local t="$S/$app/target" c=BOOT-INF/classes/jhot/sample/spring/HelloController.class
        mkdir -p "$t/v1b-class"
        (cd "$t/v1b-class" && "$JAVA_HOME/bin/jar" --extract --file "$S/$app/v1b/target/$app-v1b.jar" "$c")
        splice_jar "$S/$app/v1/target/$app-v1.jar" "$t/$app-v1b.jar" "$c" "$t/v1b-class/$c"
        splice_jar "$S/$app/v1/target/$app-v1.jar" "$t/$app-v1-props.jar" \
            BOOT-INF/classes/application.properties "$S/$app/v1-props/append.properties" append
        install_jar "$t/$app-v1b.jar" "$app-v1b.jar"
        install_jar "$t/$app-v1-props.jar" "$app-v1-props.jar"
    fi
    if [[ $app == boot4-shop ]]; then
        # v1b's module is compiled but not repackaged: its class comes from target/classes.
        local t="$dir/target" c=jhot/sample/shop/HelloController.class r=templates/vets.html
        mkdir -p "$t"
        splice_jar "$dir/v1/target/$app-v1.jar" "$t/$app-v1b.jar" "BOOT-INF/classes/$c" "$dir/v1b/target/classes/$c"
        splice_jar "$dir/v1/target/$app-v1.jar" "$t/$app-v1-res.jar" "BOOT-INF/classes/$r" "$dir/v1-res/$r"
        install_jar "$t/$app-v1b.jar" "$app-v1b.jar"
        install_jar "$t/$app-v1-res.jar" "$app-v1-res.jar"
    fi
}

for app in jdk-httpserver plain-socket spring-boot netty-epoll grpc jetty12 undertow vertx5 micronaut4 boot4-shop; do
    hash="$(src_hash "$app")"
    if up_to_date "$app" "$hash"; then
        log "$app: up to date"
        continue
    fi
    log "$app: building"
    rm -f "$OUT/.stamps/$app"
    case "$app" in
        jdk-httpserver) build_javac "$app" jhot.sample.jdkhttp.Main ;;
        plain-socket) build_javac "$app" jhot.sample.plain.Main ;;
        *) build_maven "$app" ;;
    esac
    echo "$hash" >"$OUT/.stamps/$app"
done
log "jars in $OUT"
