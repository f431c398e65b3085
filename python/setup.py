"""Builds the llmplan Python package: the extension llmplan._llmplan is CMake's target
llmplan_python (python/CMakeLists.txt), built from the repository around this folder with the CUDA
engine, the GUI and the tests off, so that pip and the build tree make the same module
(docs/PYTHON.md). The version is the one of the top-level CMakeLists.txt's project().

    pip install --no-build-isolation ./python        (Debian 12: python3-setuptools, pybind11-dev, cmake, g++)

LLMPLAN_CMAKE_ARGS adds arguments to the CMake configure step (e.g. -DCMAKE_CXX_COMPILER_LAUNCHER=ccache).
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent.parent


def project_version():
    text = (ROOT / "CMakeLists.txt").read_text()
    match = re.search(r"project\(llmplan\s+VERSION\s+([0-9.]+)", text)
    if not match:
        sys.exit("setup.py: no `project(llmplan VERSION x.y.z` in " + str(ROOT / "CMakeLists.txt"))
    return match.group(1)


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build = Path(self.build_temp).resolve() / "cmake"
        configure = ["cmake", "-S", str(ROOT), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release", "-DLLMPLAN_PYTHON=ON",
                     "-DLLMPLAN_CUDA=OFF", "-DLLMPLAN_GUI=OFF", "-DLLMPLAN_TESTS=OFF",
                     f"-DPython3_EXECUTABLE={sys.executable}",
                     *shlex.split(os.environ.get("LLMPLAN_CMAKE_ARGS", ""))]
        subprocess.run(configure, check=True)
        subprocess.run(["cmake", "--build", str(build), "--target", "llmplan_python"], check=True)
        built = sorted((build / "python" / "llmplan").glob("_llmplan*.so"))
        if len(built) != 1:
            sys.exit(f"setup.py: expected one _llmplan*.so in {build / 'python' / 'llmplan'}, found {len(built)}")
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built[0], target)


setup(
    name="llmplan",
    version=project_version(),
    description="What an LLM training or serving job will cost, before it runs (the llmplan planner from Python)",
    python_requires=">=3.9",
    packages=["llmplan"],
    ext_modules=[Extension("llmplan._llmplan", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    zip_safe=False,
)
