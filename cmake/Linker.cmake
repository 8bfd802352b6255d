# Links with lld (Debian package lld, installed by tools/dev/install-deps) when
# the compiler can use it. The test executables carry the libraries' debug
# information (tens of MB each): GNU ld takes about three times the CPU time of
# lld to link one, and there are forty of them in each build of CI. The
# programs of the Debian package stay on GNU ld (cmake/Packaging.cmake): lld
# lays out their strings so that lintian reads misspellings into them.
include(CheckLinkerFlag)
check_linker_flag(CXX -fuse-ld=lld SHOPSYNC_HAVE_LLD)
if(SHOPSYNC_HAVE_LLD)
  add_link_options(-fuse-ld=lld)
endif()
