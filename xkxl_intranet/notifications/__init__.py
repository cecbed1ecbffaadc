"""站内通知: what someone must act on reaches them in the system, not only by a banner they may
never read (models, notify, the list and its page)."""
