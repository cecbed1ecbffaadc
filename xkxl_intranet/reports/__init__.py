"""Reports: each city's 附件3 推荐信息汇总表, the province-wide roster, the comparison of
indicators across applications, and the Excel template of every indicator with its import."""
