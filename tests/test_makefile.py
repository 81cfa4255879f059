"""The main command's data check: `make data` refuses a data/ that is not the raw snapshot."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from test_smoke import ROOT, copy_repository, run

from ciderlab.data.pull import RAW_ARCHIVES, pull_raw_data


def test_make_refuses_a_raw_directory_with_foreign_files_and_deletes_nothing(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    copy_repository(repo)
    raw = repo / "data" / "raw"
    raw.mkdir(parents=True)
    for archive in RAW_ARCHIVES:  # the verified archives, from this checkout or the cache
        source = ROOT / "data" / "raw" / archive.filename
        if source.exists():
            shutil.copy2(source, raw / archive.filename)
    pull_raw_data(raw)
    foreign = raw / "my_notes.txt"
    foreign.write_text("not part of the snapshot\n")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    for command in (["git", "init", "-q"], ["git", "add", "-A"],
                    ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "copy"]):
        run(command, repo, env)

    result = subprocess.run(["make", "data", f"VENV={sys.prefix}", "ENV_TARGET="], cwd=repo,
                            env=env, capture_output=True, text=True)

    assert result.returncode != 0
    assert "not part of the raw snapshot: my_notes.txt" in result.stderr
    assert foreign.read_text() == "not part of the snapshot\n"  # nothing deleted
    assert all((raw / a.filename).exists() for a in RAW_ARCHIVES)
    assert "md5: 3fc1ea467e8f1b739c4e992d2857fe39.dir" in (repo / "data.dvc").read_text()
