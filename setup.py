"""Builds the `dsv4` Python package with CMake; `pip install .` runs it (see pyproject.toml).

The extension `dsv4._dsv4` is built by the project's CMake (target _dsv4, with
DSV4_PYTHON_STATIC=ON so the library is linked into it and no libdsv4.so is needed at run
time); the pure-Python files of bindings/python/dsv4 (*.py, *.pyi, py.typed, as
bindings/python/CMakeLists.txt assembles them) come through setuptools' build_py.

Environment:
  DSV4_SETUP_BUILD_DIR       setuptools' build base (default: build-python in the source tree);
                             the CMake build lives in its temp.* folder and is reused.
  CMAKE_BUILD_PARALLEL_LEVEL parallel compile jobs (default: all CPUs).
  DSV4_CMAKE_ARGS            extra arguments for the CMake configure step.
"""

import glob
import os
import re
import shlex
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))


def project_version():
    """The version in CMakeLists.txt's project() call (equal to DSV4_VERSION_STRING in dsv4.h)."""
    with open(os.path.join(ROOT, "CMakeLists.txt"), encoding="utf-8") as f:
        m = re.search(r"project\(\s*dsv4\s+VERSION\s+([0-9][0-9.]*)", f.read())
    if not m:
        raise RuntimeError("no project(dsv4 VERSION ...) in CMakeLists.txt")
    return m.group(1)


# Everything setuptools writes (build/, bdist/, *.egg-info) goes under one ignored folder,
# never into build/, which is the project's own CMake build directory.
BUILD_BASE = os.path.abspath(os.environ.get("DSV4_SETUP_BUILD_DIR") or os.path.join(ROOT, "build-python"))
os.makedirs(BUILD_BASE, exist_ok=True)


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = os.path.join(os.path.abspath(self.build_temp), "cmake")
        cfg = "Debug" if self.debug else "Release"
        configure = [
            "cmake", "-S", ROOT, "-B", build_dir,
            f"-DCMAKE_BUILD_TYPE={cfg}",
            "-DDSV4_BUILD_PYTHON=ON",
            "-DDSV4_PYTHON_STATIC=ON",
            "-DDSV4_BUILD_TESTS=OFF",
            f"-DPYTHON_EXECUTABLE={sys.executable}",
        ]
        ccache = shutil.which("ccache")
        if ccache:  # CMakeLists.txt also picks it up; explicit so it holds for any CMake cache
            configure += [f"-DCMAKE_CXX_COMPILER_LAUNCHER={ccache}", f"-DCMAKE_C_COMPILER_LAUNCHER={ccache}"]
        configure += shlex.split(os.environ.get("DSV4_CMAKE_ARGS", ""))
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or str(os.cpu_count() or 1)
        subprocess.check_call(configure)
        subprocess.check_call(["cmake", "--build", build_dir, "--target", "_dsv4", "--parallel", jobs])

        built = glob.glob(os.path.join(build_dir, "python", "dsv4", "_dsv4*.so"))
        if len(built) != 1:
            raise RuntimeError(f"expected one _dsv4 extension in {build_dir}/python/dsv4, found {built}")
        dest = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copyfile(built[0], dest)


setup(
    version=project_version(),
    packages=["dsv4"],
    package_dir={"dsv4": "bindings/python/dsv4"},
    package_data={"dsv4": ["*.pyi", "py.typed"]},
    ext_modules=[Extension("dsv4._dsv4", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    options={"build": {"build_base": BUILD_BASE}, "egg_info": {"egg_base": BUILD_BASE}},
    zip_safe=False,
)
