# The Debian package (tools/dev/package builds it): install rules for what is
# not a program (man pages, the unit, the conffile, bash completion, Debian
# files) and the CPack DEB settings. The programs' own install rules are next
# to their targets (DESTINATION bin: /usr/bin in the package).
set(pkg_dir ${PROJECT_SOURCE_DIR}/packaging/deb)

# Man pages: written in roff under docs/man/, installed gzipped (gzip -n:
# the same bytes at every build).
set(package_docs "")
file(MAKE_DIRECTORY ${PROJECT_BINARY_DIR}/man)
foreach(page shopsyncd.1 shopsync.1 shopsync-inspect.1 shopsyncd.toml.5)
  set(out ${PROJECT_BINARY_DIR}/man/${page}.gz)
  add_custom_command(OUTPUT ${out}
    COMMAND gzip -9n -c ${PROJECT_SOURCE_DIR}/docs/man/${page} > ${out}
    DEPENDS ${PROJECT_SOURCE_DIR}/docs/man/${page}
    VERBATIM)
  string(REGEX MATCH "[0-9]$" section ${page})
  install(FILES ${out} DESTINATION share/man/man${section})
  list(APPEND package_docs ${out})
endforeach()

# The Debian changelog of a native package, gzipped like the man pages.
set(SHOPSYNC_PACKAGE_MAINTAINER "shopsync maintainers <maintainers@shopsync.invalid>"
  CACHE STRING "Maintainer field of the Debian package")
configure_file(${pkg_dir}/changelog.in ${PROJECT_BINARY_DIR}/changelog @ONLY)
add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/changelog.gz
  COMMAND gzip -9n -c ${PROJECT_BINARY_DIR}/changelog > ${PROJECT_BINARY_DIR}/changelog.gz
  DEPENDS ${PROJECT_BINARY_DIR}/changelog
  VERBATIM)
list(APPEND package_docs ${PROJECT_BINARY_DIR}/changelog.gz)
install(FILES ${PROJECT_BINARY_DIR}/changelog.gz DESTINATION share/doc/shopsync)
add_custom_target(shopsync_package_docs ALL DEPENDS ${package_docs})

# The installed programs: GOT read-only before main (lintian's hardening-no-bindnow),
# linked by GNU ld whatever cmake/Linker.cmake chose for the rest.
foreach(program shopsyncd shopsync shopsync-inspect)
  if(TARGET ${program})
    target_link_options(${program} PRIVATE -Wl,-z,relro,-z,now -fuse-ld=bfd)
  endif()
endforeach()

install(FILES ${PROJECT_SOURCE_DIR}/node/shopsyncd.service DESTINATION /lib/systemd/system)
# The web console and the JavaScript client (docs/web-console.md): shopsyncd
# --http serves them from here (node/config.h kDefaultWebRoot).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/web/ DESTINATION share/shopsync/web)
install(FILES ${pkg_dir}/shopsyncd.toml DESTINATION /etc/shopsync)
install(FILES ${pkg_dir}/shopsync.bash-completion DESTINATION share/bash-completion/completions RENAME shopsync)
install(FILES ${pkg_dir}/copyright DESTINATION share/doc/shopsync)
install(FILES ${pkg_dir}/lintian-overrides DESTINATION share/lintian/overrides RENAME shopsync)

# cpack installs without building the whole tree first (tools/dev/package
# builds what the package holds): no "all" before "install".
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME shopsync)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${SHOPSYNC_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "offline-first replication daemon for businesses with several shops")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "shopsyncd keeps the records of a business (customers, orders, payments,\n"
  "any collection) identical on every machine of every branch without\n"
  "needing the internet: LMDB storage, DNS-SD discovery on the LAN, and\n"
  "version-vector deltas over CURVE-encrypted ZeroMQ.\n"
  "This package holds the node, its command-line client shopsync and the\n"
  "replication inspector shopsync-inspect.")
string(REPLACE ";" "" CPACK_DEBIAN_PACKAGE_DESCRIPTION "${CPACK_DEBIAN_PACKAGE_DESCRIPTION}")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # Depends: the shared libraries the programs link, nothing else
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${pkg_dir}/conffiles ${pkg_dir}/postinst ${pkg_dir}/prerm ${pkg_dir}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
include(CPack)
