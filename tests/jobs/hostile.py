"""Hostile 申报书 the tests make themselves: small files that cost a reader dearly."""
from __future__ import annotations

import io
import zipfile
import zlib

W_MAIN = b"http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _pdf(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def glyph_pdf(glyphs: int, pages: int = 1) -> bytes:
    """``pages`` pages sharing one compressed content stream of ``glyphs`` characters: a few KB
    that PDFium lays out glyph by glyph (3.5 million on one page: the issue's 51 KB upload)."""
    line = b"(" + b"A" * 1000 + b") Tj\n"
    content = zlib.compress(b"BT /F1 1 Tf 10 10 Td\n" + line * (glyphs // 1000) + b"ET", 9)
    kids = b" ".join(b"%d 0 R" % (5 + n) for n in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R "
                b"/Resources << /Font << /F1 4 0 R >> >> >>"] * pages
    return _pdf(objects)


def expanding_docx(paragraphs: int) -> bytes:
    """A .docx whose document.xml (35 bytes a paragraph, under the 32 MB bound) zips to ~0.3 %
    of itself and takes lxml and python-docx over ten times its size in memory."""
    body = b"<w:p><w:r><w:t>x</w:t></w:r></w:p>" * paragraphs
    document = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="' + W_MAIN
                + b'"><w:body>' + body + b"</w:body></w:document>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", (
            b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            b'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            b'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
            b'"/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.'
            b'document.main+xml"/></Types>'))
        archive.writestr("_rels/.rels", (
            b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            b'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            b'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>'))
        archive.writestr("word/document.xml", document)
    return buffer.getvalue()
