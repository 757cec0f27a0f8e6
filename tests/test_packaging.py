"""``pip install .`` into a fresh virtual environment gives a working wiki: templates and the
starter content ship inside the package."""
import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_ships_templates_and_content_and_installs(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
                   check=True, capture_output=True)
    wheel = next(dist.glob("commons_wiki-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "commons/templates/base.html" in names
    assert "commons/content/practices/co-development-group.md" in names
    assert "commons/static/commons.css" in names
    assert "commons/licenses/CC-BY-SA-4.0.txt" in names  # written into LICENSES/ at seed
    assert any(n.startswith("commons/migrations/versions/") for n in names)
    assert "commons/translations/fr/LC_MESSAGES/messages.mo" in names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet",
                          "--disable-pip-version-check", str(wheel)],
                         capture_output=True, text=True)
    assert pip.returncode == 0, pip.stderr[-2000:]
    home = tmp_path / "home"
    env = {**os.environ, "COMMONS_HOME": str(home)}
    out = subprocess.run([str(venv / "bin" / "commons"), "init"], capture_output=True,
                         text=True, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "seeded 20 starter practices" in out.stdout
    page = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "from commons import create_app; c = create_app().test_client(); "
         "r = c.get('/p/co-development-group', headers={'Accept-Language': 'fr'}); "
         "print(r.status_code, 'Responsables' in r.get_data(as_text=True))"],
        capture_output=True, text=True, env=env, cwd=tmp_path)
    assert page.stdout.split() == ["200", "True"], page.stderr[-2000:]
