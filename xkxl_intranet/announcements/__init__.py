"""通知公告: the province's announcements to all cities or chosen ones, their attachments and
each city's read receipt."""
