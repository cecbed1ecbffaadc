"""The storage layer: uploads hashed while written (large ones by helper threads), temp files
never left behind, bytes moved into place only when complete."""
import hashlib
import os
import threading
from pathlib import Path

import pytest

from xkxl_intranet.files import operations, storage
from xkxl_intranet.files.storage import HashingTempFile, StorageUnavailable

from .conftest import files_on_disk, pdf, sha, storage_path, stored_files, upload


def _chunks(data: bytes, size: int = 65536):
    return [data[i:i + size] for i in range(0, len(data), size)]


def test_large_writes_are_hashed_and_written_by_helpers(tmp_path):
    data = os.urandom(5 * 1024 * 1024 + 123)
    temp = HashingTempFile(tmp_path)
    for chunk in _chunks(data):
        temp.write(chunk)
    assert temp._stages is not None  # the helpers took over after the first MB
    temp.seek(0)  # waits for them: reading sees every byte
    assert temp.read(10) == data[:10]
    size, digest = temp.finish()
    assert (size, digest) == (len(data), hashlib.sha256(data).hexdigest())
    assert Path(temp.name).read_bytes() == data
    assert not [t for t in threading.enumerate() if t.name.startswith("upload-")]


def test_a_write_after_seeking_is_hashed_from_the_file(tmp_path):
    temp = HashingTempFile(tmp_path)
    temp.write(b"a" * 100)
    temp.seek(10)
    temp.write(b"B")
    size, digest = temp.finish()
    expected = b"a" * 10 + b"B" + b"a" * 89
    assert (size, digest) == (100, sha(expected))


def test_a_failing_disk_is_reported_and_the_temp_file_removed(tmp_path, monkeypatch):
    def no_space(fd, buffers):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(storage.os, "writev", no_space)
    temp = HashingTempFile(tmp_path)
    with pytest.raises(StorageUnavailable, match="No space"):
        for chunk in _chunks(os.urandom(8 * 1024 * 1024)):
            temp.write(chunk)
        temp.finish()
    temp.discard()
    assert list(tmp_path.iterdir()) == []
    assert not [t for t in threading.enumerate() if t.name.startswith("upload-")]


def test_a_large_upload_through_the_app(app, city_client, application_id):
    data = pdf("big", size=3 * 1024 * 1024 + 17)
    response = upload(city_client, application_id, "form", ("大申报书.pdf", data), htmx=True)
    assert response.status_code == 200
    [row] = stored_files(app)
    assert row.size == len(data) and row.sha256 == sha(data)
    assert storage_path(app, row).read_bytes() == data
    assert files_on_disk(app) == [storage_path(app, row)]


def test_an_error_in_the_view_leaves_no_row_and_no_file(app, city_client, application_id, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(operations, "_supersede", broken)  # after the file was moved into place
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = upload(city_client, application_id, "form", ("申报书.pdf", pdf()))
    assert response.status_code == 500
    assert "系统内部错误" in response.get_data(as_text=True)
    assert stored_files(app) == [] and files_on_disk(app) == []
