# Sourced by the sample build scripts: sets JDK to a JDK 17+ home ($JAVA_HOME, the system JDK 17,
# or the one `javac` on PATH belongs to), or calls the caller's `die`.
javac_major() { "$1/bin/javac" -version 2>&1 | sed -nE 's/^javac ([0-9]+).*/\1/p'; }
candidates=("${JAVA_HOME:-}" /usr/lib/jvm/java-17-openjdk-amd64)
if command -v javac >/dev/null; then candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")"); fi
JDK=""
for c in "${candidates[@]}"; do
    if [[ -n "$c" && -x "$c/bin/javac" ]] && (( $(javac_major "$c" || echo 0) >= 17 )); then JDK="$c"; break; fi
done
[[ -n "$JDK" ]] || die "no JDK 17+ found (tried: ${candidates[*]}); set JAVA_HOME or install openjdk-17-jdk-headless"
