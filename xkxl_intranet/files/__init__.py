"""The files domain: the 申报书 with its versions, the evidence lists 附件1–6 and each city's
stamped 附件3 汇总表; storage, uploads checked by content and streamed to disk, the readers of a
申报书. What a file means to an application (a new 申报书 read and compared) is applications'
(``applications/materials.py``), the 附件3 scan's fingerprint reports' and the pages materials'."""
