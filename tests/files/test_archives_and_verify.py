"""ZIP archives (names, manifest, hashes, scoping) and ``flask verify-files``."""
import csv
import io
import os
import time
import zipfile

from .conftest import (
    DOCX,
    PNG,
    XLSX,
    files_on_disk,
    make_application,
    make_zip,
    pdf,
    set_review_state,
    sha,
    storage_path,
    stored_files,
    upload,
    upload_root,
)

ZIP_XLSX = {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}  # as XLSX


def _scan(client, name, data):
    return client.post("/files/city/summary-scan", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _read_zip(response):
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert response.is_streamed
    return zipfile.ZipFile(io.BytesIO(response.get_data()))


def _manifest(zf):
    text = zf.read("manifest.csv").decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def _populate(app, city_client, other_city_client):
    first = make_application(app, enterprise_name="四川甲科技有限公司")
    second = make_application(app, enterprise_name="四川乙/丙公司", position=7)
    third = make_application(app, "510700", enterprise_name="绵阳丁公司")
    upload(city_client, first, "form", ("申报书旧版.pdf", pdf("old")))
    upload(city_client, first, "form", ("申报书.pdf", pdf("new")))
    upload(city_client, first, "evidence1", ("设备清单.xlsx", XLSX))
    # the same name twice (other content: the same content again within the hour is one file)
    upload(city_client, first, "evidence1", ("设备清单.xlsx", make_zip({**ZIP_XLSX, "xl/styles.xml": b"<s/>"})))
    upload(city_client, second, "form", ("申报书.docx", DOCX))
    upload(city_client, second, "evidence6", ("现场照片.png", PNG))
    upload(other_city_client, third, "form", ("绵阳申报书.pdf", pdf("my")))
    _scan(city_client, "成都汇总表.pdf", pdf("scan-old"))
    _scan(city_client, "成都汇总表.pdf", pdf("scan"))
    for application_id in (first, second, third):  # on their city's 附件3
        set_review_state(app, application_id, "passed")
    return first, second, third


def test_city_zip_holds_current_versions_evidence_and_scan_with_a_manifest(
        app, city_client, other_city_client):
    _populate(app, city_client, other_city_client)
    cd_city = stored_files(app, original_name="申报书.docx")[0].city_id
    response = city_client.get(f"/files/cities/{cd_city}/files.zip")
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    assert "%E6%88%90%E9%83%BD%E5%B8%82" in response.headers["Content-Disposition"]  # 成都市
    zf = _read_zip(response)
    assert zf.testzip() is None
    assert zf.namelist() == [
        "manifest.csv",
        "成都市/01_四川甲科技有限公司/申报书/申报书.pdf",
        "成都市/01_四川甲科技有限公司/附件1 工业设备清单/设备清单.xlsx",
        "成都市/01_四川甲科技有限公司/附件1 工业设备清单/设备清单 (2).xlsx",
        "成都市/02_四川乙_丙公司/申报书/申报书.docx",
        "成都市/02_四川乙_丙公司/附件6 财务报表等其他材料/现场照片.png",
        "成都市/汇总表/成都汇总表.pdf",
    ]
    rows = _manifest(zf)
    assert [r["压缩包内路径"] for r in rows] == zf.namelist()[1:]
    by_sha = {r.sha256: r for r in stored_files(app)}
    for row in rows:
        data = zf.read(row["压缩包内路径"])
        assert sha(data) == row["SHA-256"]  # the manifest matches the bytes ...
        stored = by_sha[row["SHA-256"]]
        assert storage_path(app, stored).read_bytes() == data  # ... and the stored file
        assert int(row["大小（字节）"]) == stored.size == len(data)
        assert row["市（州）"] == "成都市" and row["上传人"] == "成都市经济和信息化局"
        assert row["文件名"] == stored.original_name and row["上传时间"].startswith("20")
    assert zf.read("成都市/01_四川甲科技有限公司/申报书/申报书.pdf") == pdf("new")
    assert zf.read("成都市/汇总表/成都汇总表.pdf") == pdf("scan")
    assert {r["类别"] for r in rows} >= {"申报书", "附件1 工业设备清单", "附件3 汇总表（盖章扫描件）"}


def test_zip_scoping(app, city_client, other_city_client, province_client, viewer_client):
    _populate(app, city_client, other_city_client)
    cd_city = stored_files(app, original_name="申报书.docx")[0].city_id
    my_city = stored_files(app, original_name="绵阳申报书.pdf")[0].city_id
    assert city_client.get(f"/files/cities/{my_city}/files.zip").status_code == 404
    assert other_city_client.get(f"/files/cities/{cd_city}/files.zip").status_code == 404
    assert city_client.get("/files/all.zip").status_code == 404
    for client in (province_client, viewer_client):
        zf = _read_zip(client.get("/files/all.zip"))
        names = zf.namelist()
        assert "绵阳市/01_绵阳丁公司/申报书/绵阳申报书.pdf" in names
        assert "成都市/汇总表/成都汇总表.pdf" in names
        assert names.index("成都市/汇总表/成都汇总表.pdf") < names.index("绵阳市/01_绵阳丁公司/申报书/绵阳申报书.pdf")
        assert len(_manifest(zf)) == len(names) - 1 == 7
        assert "申报书旧版.pdf" not in "".join(names)
        assert _read_zip(client.get(f"/files/cities/{my_city}/files.zip")).namelist() == [
            "manifest.csv", "绵阳市/01_绵阳丁公司/申报书/绵阳申报书.pdf"]


def test_a_file_missing_from_storage_is_noted_not_fatal(app, city_client, other_city_client):
    _populate(app, city_client, other_city_client)
    gone = stored_files(app, original_name="现场照片.png")[0]
    storage_path(app, gone).unlink()
    zf = _read_zip(city_client.get(f"/files/cities/{gone.city_id}/files.zip"))
    assert not any(n.endswith("现场照片.png") for n in zf.namelist())
    [row] = [r for r in _manifest(zf) if r["文件名"] == "现场照片.png"]
    assert "缺失" in row["备注"] and row["SHA-256"] == gone.sha256


def _verify(app, *args):
    return app.test_cli_runner().invoke(args=["verify-files", *args])


def test_verify_files_finds_corruption_missing_files_and_orphans(app, city_client, application_id):
    upload(city_client, application_id, "form", ("申报书.pdf", pdf()))
    upload(city_client, application_id, "evidence1", ("a.xlsx", XLSX))
    upload(city_client, application_id, "evidence2", ("b.docx", DOCX))
    result = _verify(app)
    assert result.exit_code == 0, result.output
    assert "共 3 条文件记录，3 个完好；发现问题 0 个" in result.output

    corrupt, missing, _fine = stored_files(app)
    path = storage_path(app, corrupt)
    data = bytearray(path.read_bytes())
    data[20] ^= 0xFF  # same size, one flipped byte
    path.write_bytes(bytes(data))
    storage_path(app, missing).unlink()
    root = upload_root(app)
    orphan = root / "ab" / ("c" * 30)
    orphan.parent.mkdir(exist_ok=True)
    orphan.write_bytes(b"left behind")
    stray = root / "notes.txt"
    stray.write_text("?")
    tmp = root / "tmp" / "upload-crashed.part"
    tmp.parent.mkdir(exist_ok=True)
    tmp.write_bytes(b"half an upload")
    fresh = root / "tmp" / "upload-in-progress.part"
    fresh.write_bytes(b"still coming")
    old = time.time() - 2 * 3600
    for p in (orphan, stray, tmp):
        os.utime(p, (old, old))

    result = _verify(app)
    assert result.exit_code == 1
    out = result.output
    assert f"SHA-256 不一致：文件 #{corrupt.id}“申报书.pdf”" in out
    assert f"缺失：文件 #{missing.id}“a.xlsx”" in out
    assert "存储中无记录对应的文件 4 个" in out
    assert f"孤立文件（无记录对应）：{orphan}（11 字节，" in out and f"孤立文件（无记录对应）：{stray}" in out
    assert "未删除（--delete-orphans 删除）" in out
    assert f"临时文件（上传未完成）：{tmp}" in out and "上传中断留下，已清理" in out and not tmp.exists()
    assert f"临时文件（上传未完成）：{fresh}" in out and "写入不足 60 分钟，可能正在上传，未处理" in out
    assert fresh.exists() and "发现问题 4 个" in out and orphan.exists()

    quick = _verify(app, "--quick")
    assert "SHA-256 不一致" not in quick.output and quick.exit_code == 1

    cleaned = _verify(app, "--delete-orphans")
    assert f"孤立文件（无记录对应）：{orphan}" in cleaned.output and "已删除" in cleaned.output
    assert not orphan.exists()
    assert "发现问题 2 个" in cleaned.output and cleaned.exit_code == 1
    assert sorted(files_on_disk(app)) == sorted([storage_path(app, corrupt), storage_path(app, _fine),
                                                 fresh])


def test_verify_files_right_after_a_crash_lists_everything_it_left_at_once(app, city_client,
                                                                          application_id):
    """A crash at 21:40: a half-written upload and a file moved into place whose row never
    committed. Seconds later both are listed (without waiting an hour), nothing is deleted,
    and the exit status stays 0 (an upload may be running); --grace-minutes 0 cleans up."""
    upload(city_client, application_id, "form", ("申报书.pdf", pdf()))
    root = upload_root(app)
    half = root / "tmp" / "upload-abc123.part"
    half.parent.mkdir(exist_ok=True)
    half.write_bytes(b"%PDF-1.7 half")
    unrecorded = root / "fe" / ("d" * 30)
    unrecorded.parent.mkdir(exist_ok=True)
    unrecorded.write_bytes(pdf("never committed"))

    result = _verify(app)
    assert result.exit_code == 0, result.output
    assert "存储中无记录对应的文件 2 个" in result.output
    assert f"临时文件（上传未完成）：{half}（13 字节，" in result.output
    assert f"孤立文件（无记录对应）：{unrecorded}" in result.output
    assert result.output.count("写入不足 60 分钟，可能正在上传，未处理") == 2
    assert "--grace-minutes 0" in result.output
    assert half.exists() and unrecorded.exists()

    kept = _verify(app, "--grace-minutes", "0")
    assert kept.exit_code == 1 and not half.exists() and unrecorded.exists()
    negative = _verify(app, "--grace-minutes", "-5")
    assert negative.exit_code != 0 and "宽限期 --grace-minutes 不能为负数：-5" in negative.output
    cleaned = _verify(app, "--grace-minutes", "0", "--delete-orphans")
    assert cleaned.exit_code == 0 and not unrecorded.exists()
    assert "共 1 条文件记录，1 个完好；发现问题 0 个" in cleaned.output
