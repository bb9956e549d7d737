# Cross-compiling for aarch64 Linux with Debian's cross toolchain
# (g++-aarch64-linux-gnu: its libc, libstdc++ and libgomp live in
# /usr/aarch64-linux-gnu). The other libraries (Highway, libpng, zlib,
# GoogleTest, nlohmann-json) come from arm64 .debs unpacked, not installed,
# into ESPCN_AARCH64_SYSROOT (scripts/check_neon.sh builds it), so nothing of
# the host's x86-64 libraries or headers can be picked up.
#   cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64-linux-gnu.cmake \
#         -DESPCN_AARCH64_SYSROOT=/path/to/sysroot ...
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# Also seen by CMake's try_compile projects (FindOpenMP, FindThreads).
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES ESPCN_AARCH64_SYSROOT)
if(NOT ESPCN_AARCH64_SYSROOT OR NOT IS_DIRECTORY "${ESPCN_AARCH64_SYSROOT}/usr/include")
  message(FATAL_ERROR "ESPCN_AARCH64_SYSROOT='${ESPCN_AARCH64_SYSROOT}' is not a directory with "
                      "usr/include (the arm64 packages unpacked; see scripts/check_neon.sh)")
endif()

set(CMAKE_FIND_ROOT_PATH "${ESPCN_AARCH64_SYSROOT}" /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# libpng.so needs libz.so.1, which the unpacked zlib1g keeps in /lib (not /usr/lib).
set(CMAKE_EXE_LINKER_FLAGS_INIT
    "-Wl,-rpath-link,${ESPCN_AARCH64_SYSROOT}/usr/lib/aarch64-linux-gnu -Wl,-rpath-link,${ESPCN_AARCH64_SYSROOT}/lib/aarch64-linux-gnu")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "${CMAKE_EXE_LINKER_FLAGS_INIT}")

# ctest and CMake's own checks run the binaries through qemu-user.
find_program(ESPCN_QEMU_AARCH64 NAMES qemu-aarch64 qemu-aarch64-static)
if(ESPCN_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${ESPCN_QEMU_AARCH64};-L;${ESPCN_AARCH64_SYSROOT}")
endif()
