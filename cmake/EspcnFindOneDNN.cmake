# espcn_find_onednn(): the imported target espcn::dnnl for oneDNN 2.6+ or 3.x,
# whichever the system has (Debian 12: 2.6.3, Debian 13: 3.7.2).
#
# Why not find_package(dnnl CONFIG): Debian's libdnnl-dev is built with the
# OpenCL GPU runtime, so its dnnl-config.cmake demands the OpenCL development
# files (a hard find_package(OpenCL REQUIRED) we cannot catch) although we
# only use the CPU engine; and its version file accepts only the major version
# it was asked for, so no single request accepts both 2.x and 3.x. The header
# and the library are all we need: found here directly (hints: DNNL_ROOT,
# CMAKE_PREFIX_PATH), the version read from dnnl_version.h.
function(espcn_find_onednn)
  if(TARGET espcn::dnnl)
    return()
  endif()
  find_path(ESPCN_DNNL_INCLUDE_DIR oneapi/dnnl/dnnl.hpp HINTS ${DNNL_ROOT} $ENV{DNNL_ROOT}
            PATH_SUFFIXES include DOC "directory holding oneapi/dnnl/dnnl.hpp")
  find_library(ESPCN_DNNL_LIBRARY NAMES dnnl HINTS ${DNNL_ROOT} $ENV{DNNL_ROOT}
               PATH_SUFFIXES lib lib64 DOC "libdnnl")
  if(NOT ESPCN_DNNL_INCLUDE_DIR OR NOT ESPCN_DNNL_LIBRARY)
    message(FATAL_ERROR "espcn: oneDNN not found (header oneapi/dnnl/dnnl.hpp: "
      "${ESPCN_DNNL_INCLUDE_DIR}; library libdnnl: ${ESPCN_DNNL_LIBRARY}). "
      "Install it (Debian: apt install libdnnl-dev), point DNNL_ROOT at an install, "
      "or configure with -DESPCN_WITH_ONEDNN=OFF.")
  endif()
  # dnnl_version.h and dnnl_config.h may live in an architecture directory
  # (/usr/include/<multiarch>/oneapi/dnnl) in some packagings.
  find_path(ESPCN_DNNL_CONFIG_INCLUDE_DIR oneapi/dnnl/dnnl_version.h
            HINTS ${ESPCN_DNNL_INCLUDE_DIR} ${ESPCN_DNNL_INCLUDE_DIR}/${CMAKE_LIBRARY_ARCHITECTURE})
  if(NOT ESPCN_DNNL_CONFIG_INCLUDE_DIR)
    message(FATAL_ERROR "espcn: no oneapi/dnnl/dnnl_version.h next to ${ESPCN_DNNL_INCLUDE_DIR}")
  endif()
  set(version_header ${ESPCN_DNNL_CONFIG_INCLUDE_DIR}/oneapi/dnnl/dnnl_version.h)
  file(STRINGS ${version_header} lines REGEX "^#define DNNL_VERSION_(MAJOR|MINOR|PATCH) ")
  foreach(part MAJOR MINOR PATCH)
    string(REGEX MATCH "DNNL_VERSION_${part} +([0-9]+)" _ "${lines}")
    set(${part} ${CMAKE_MATCH_1})
  endforeach()
  set(version ${MAJOR}.${MINOR}.${PATCH})
  if(version VERSION_LESS 2.6 OR MAJOR GREATER 3)
    message(FATAL_ERROR "espcn: oneDNN ${version} (${version_header}): supported are 2.6 to 3.x")
  endif()
  add_library(espcn::dnnl UNKNOWN IMPORTED GLOBAL)
  set_target_properties(espcn::dnnl PROPERTIES
    IMPORTED_LOCATION ${ESPCN_DNNL_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES "${ESPCN_DNNL_INCLUDE_DIR};${ESPCN_DNNL_CONFIG_INCLUDE_DIR}")
  set(ESPCN_ONEDNN_VERSION ${version} PARENT_SCOPE)
  message(STATUS "espcn: oneDNN ${version} (${ESPCN_DNNL_LIBRARY})")
endfunction()
