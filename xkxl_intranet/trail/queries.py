"""Reading the trail, filtered and scoped: the 安全审计员 reads all of it; everyone else who
reads it, the business history of what they see (their city's, or all cities' for the province),
without the security events (:data:`SECURITY_ACTION_PREFIXES`)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, func, not_, or_, select

from ..applications.rules import scope_mark_events
from ..audit.models import AuditEvent
from ..auth.models import User
from ..auth.scoping import reads_whole_trail, scope_to_city
from ..clock import SHANGHAI
from ..extensions import db
from ..rounds.models import Round

SelectT = TypeVar("SelectT", bound=Select[Any])

PAGE_SIZE = 50

# The security events, the 安全审计员's alone (三权分立): log-ins, their failures, locks and
# throttles, log-outs, passwords and second factors, sessions (``auth.``); account changes
# (``account.``); reading and exporting the trail (``audit.``); downloads and exports
# (``download.``); refused access: another city's record, a viewer's post, a CSRF failure
# (``access.``). The province and the cities read the rest, the business history, as before.
SECURITY_ACTION_PREFIXES = ("auth.", "account.", "audit.", "download.", "access.")


def is_security_action(action: str) -> bool:
    return action.startswith(SECURITY_ACTION_PREFIXES)

ACTION_LABELS = {
    "announcement.published": "发布通知公告",
    "announcement.read": "阅读通知公告",
    "auth.login": "登录",
    "auth.logout": "退出",
    "auth.login_failed": "登录失败",
    "auth.lockout": "账号锁定",
    "auth.login_refused_locked": "锁定期间登录",
    "auth.login_refused_disabled": "停用账号登录",
    "auth.login_refused_one_time": "一次性密码再次登录",
    "auth.address_throttled": "登录过于频繁（暂缓）",
    "auth.password_check_failed": "修改密码时密码错误",
    "auth.password_changed": "修改密码",
    "auth.password_expired": "密码到期",
    "auth.session_ended": "结束登录会话",
    "auth.session_evicted": "超出同时登录数结束会话",
    "account.created": "创建账号",
    "account.bulk_created": "批量创建市州账号",
    "account.updated": "修改账号",
    "account.password_reset": "重置密码",
    "auth.2fa_enabled": "启用两步验证",
    "auth.2fa_disabled": "关闭两步验证",
    "auth.2fa_recovery_regenerated": "重新生成恢复码",
    "auth.2fa_recovery_used": "使用恢复码",
    "auth.2fa_failed": "两步验证失败",
    "account.2fa_reset": "重置两步验证",
    "account.unlocked": "解除锁定",
    "audit.viewed": "查看审计日志",
    "audit.exported": "导出审计日志",
    "round.demo_deadline": "演示截止时间",
    "application.created": "新建申报",
    "application.updated": "修改申报",
    "application.deleted": "删除申报",
    "application.reviewed": "市州初审",
    "application.review_reverted": "初审退回草稿",
    "application.warning_acknowledged": "确认提示",
    "application.marked": "省厅标记",
    "batch.reported": "报送",
    "batch.accepted": "受理",
    "batch.returned": "退回修改",
    "batch.extension_granted": "准予延期",
    "batch.paper_received": "登记纸质材料",
    "batch.disclosure": "信息公开选项",
    "round.deadline_changed": "修改截止时间",
    "round.results_published": "公布推荐结果",
    "round.results_withdrawn": "撤回推荐结果公布",
    "round.opened": "开启新批次",
    "round.notice_recorded": "补记批次通知",
    "round.made_current": "设为当前批次",
    "round.deleted": "删除批次",
    "city.contact_updated": "修改汇总表联系人",
    "mail.resent": "重新发送邮件",
    "summary.reordered": "调整汇总表顺序",
    "reports.imported": "Excel导入申报",
    "file.uploaded": "上传文件",
    "file.deleted": "删除文件",
    "file.read": "重新读取申报书",
    "review.opened": "开始专家评审",
    "review.settings_changed": "修改评审设置",
    "review.assigned": "分配评审专家",
    "review.unassigned": "撤销评审分配",
    "review.conflict_declared": "专家申请回避",
    "review.sheet_saved": "保存评分草稿",
    "review.sheet_submitted": "提交评分表",
    "review.sheet_reopened": "退回评分表",
    "review.extension_granted": "评分表延期",
    # What left the system, and what was refused (issue 22): kept even when the request's own
    # changes were rolled back.
    "download.file": "下载文件",
    "download.announcement_file": "下载通知附件",
    "download.credential_slips": "下载账号开通凭条",
    "download.city_zip": "下载市（州）材料包",
    "download.all_zip": "下载全部材料包",
    "download.roster": "导出申报名单",
    "download.summary": "导出推荐信息汇总表（附件3）",
    "download.indicator_filled": "导出已填指标表",
    "download.ranking": "导出评审汇总表",
    "download.sheet": "下载评分表",
    "download.sheets": "下载申报的全部评分表",
    "download.receipt": "下载报送回执",
    "download.prefilled_form": "下载预填申报书",
    "access.not_found": "拒绝访问（不存在或无权查看）",
    "access.viewer_write": "只读账号提交被拒绝",
    "access.csrf_failed": "请求来源校验失败（CSRF）",
    "operation.refused": "操作被拒绝",
    "file.upload_refused": "上传被拒绝",
    "access.expert_read": "评审专家查阅申报",
}


@dataclass
class TrailFilter:
    city_id: int | None = None
    username: str = ""
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1

    def query(self, **changes: object) -> dict[str, str]:
        """The query string of this filter (``changes`` applied): only the parameters the trail
        knows, so that nothing a visitor adds to the URL reaches ``url_for``."""
        values = {"city_id": self.city_id, "username": self.username, "action": self.action,
                  "date_from": self.date_from, "date_to": self.date_to, "page": self.page, **changes}
        return {key: str(value) for key, value in values.items() if value not in (None, "")}


def scope_trail(stmt: SelectT, user: User, round_: Round | None, *, combined_duties: bool = False) -> SelectT:
    """The events of ``stmt`` that ``user`` may read: all of them for whoever reads the whole
    trail (``auth.scoping.reads_whole_trail``); for anyone else those of the cities they see,
    the province's marks of ``round_`` only as ``applications.rules.scope_mark_events`` lets
    them, and no security event."""
    if reads_whole_trail(user, combined_duties=combined_duties):
        return stmt
    stmt = scope_mark_events(scope_to_city(stmt, AuditEvent.city_id, user), user, round_)
    return stmt.where(not_(or_(*(AuditEvent.action.startswith(prefix) for prefix in SECURITY_ACTION_PREFIXES))))


def filtered(user: User, f: TrailFilter, round_: Round | None = None, *,
             combined_duties: bool = False) -> Select[Any]:
    """The events ``user`` may read that ``f`` selects, unordered and unpaged."""
    stmt = scope_trail(select(AuditEvent), user, round_, combined_duties=combined_duties)
    if f.city_id:
        stmt = stmt.where(AuditEvent.city_id == f.city_id)
    if f.username:  # a log-in name or a person's name as the pages show it (「成都」 finds chengdu)
        typed = f.username.lower()
        named = select(User.username).where(func.lower(User.display_name).contains(typed))
        stmt = stmt.where(or_(func.lower(AuditEvent.username).contains(typed), AuditEvent.username.in_(named)))
    if f.action:
        stmt = stmt.where(AuditEvent.action.startswith(f.action))
    if f.date_from:
        stmt = stmt.where(AuditEvent.at >= datetime.combine(f.date_from, time.min, SHANGHAI))
    if f.date_to:
        stmt = stmt.where(AuditEvent.at < datetime.combine(f.date_to + timedelta(days=1), time.min, SHANGHAI))
    return stmt


def newest_first(stmt: Select[Any]) -> Select[Any]:
    return stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def trail(user: User, f: TrailFilter, round_: Round | None = None, *,
          combined_duties: bool = False) -> tuple[list[AuditEvent], int, int]:
    """The events ``user`` may read on page ``f.page`` (the last page there is, if that one is
    beyond it), how many there are, and the page shown (:func:`scope_trail`)."""
    stmt = filtered(user, f, round_, combined_duties=combined_duties)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = min(max(f.page, 1), max(1, -(-total // PAGE_SIZE)))
    rows = db.session.scalars(newest_first(stmt).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return list(rows), total, page


def known_actions(user: User, round_: Round | None = None, *, combined_duties: bool = False) -> list[str]:
    """The actions of the events ``user`` may read (the filter's choices): a city is not told
    which actions happen elsewhere, e.g. that experts are reviewing, nor that the province has
    marked its platforms before it may read the marks."""
    stmt = scope_trail(select(AuditEvent.action), user, round_, combined_duties=combined_duties)
    return list(db.session.scalars(stmt.distinct().order_by(AuditEvent.action)))
