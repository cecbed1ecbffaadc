"""The applications domain: each enterprise's 申报书 figures, checked as the clerk types."""
