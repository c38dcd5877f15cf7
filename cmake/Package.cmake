# `cpack -G DEB` in the build folder: a Debian package of what cmake/Install.cmake installs, under /usr.
# Depends come from dpkg-shlibdeps on the installed binaries (librdkafka1, libyaml-cpp0.7, libspdlog1.10,
# libfmt9, ...), so they follow the libraries the build really linked. The stack's runtimes are only
# Recommends: Java runs Kafka, Node.js runs the example gateways; `rr-harness setup` needs maven and go
# (Suggests) only when it has to fetch or build the stack.
set(CPACK_PACKAGE_NAME rrkit)
set(CPACK_PACKAGE_VENDOR rrkit)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Test synchronous HTTP request/reply over Kafka through a Dapr sidecar")
set(CPACK_PACKAGE_CONTACT "rrkit maintainers <rrkit@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "default-jre-headless, nodejs")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "maven, golang-go")
include(CPack)
