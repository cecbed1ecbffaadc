"""The files domain: the 申报书 with its versions, the evidence lists 附件1–6 and each city's
stamped 附件3 汇总表; uploads streamed to disk, downloads and ZIP archives scoped by city."""
