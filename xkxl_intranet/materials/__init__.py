"""The materials' pages (the ``files`` blueprint): an application's files and a city's, their
uploads, downloads and deletions, and the ZIP archives of a city's or every city's materials.
It puts applications' files and reports' 附件3 scan on one page, so it sits above both."""
