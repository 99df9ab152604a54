#!/usr/bin/env bash
# Builds the Gradle plugin (dev.jhot:jhot-gradle-plugin, with the shared core of integrations/core
# shaded into its jar) with Maven and installs it into the local Maven repository (~/.m2), where a
# Gradle build finds it through `mavenLocal()`. `make install-integrations` installs it with the
# Maven plugin and the jhot binary's digest; the e2e tests (tests/e2e/gradle.rs) run this.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
command -v mvn >/dev/null || { echo "install.sh: mvn not found; install Maven (apt-get install maven)" >&2; exit 1; }
mvn -B -q -f ../pom.xml -pl core,gradle install "$@"
echo "installed dev.jhot:jhot-gradle-plugin:$(sed -n 's#^  <version>\(.*\)</version>#\1#p' pom.xml | head -1) into the local Maven repository"
