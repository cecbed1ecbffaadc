"""批量开通市州账号 with credential slips (凭条) whose one-time passwords open one log-in (issue 24)."""
