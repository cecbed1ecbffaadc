#!/usr/bin/env bash
# Offline installer of the bundle made by `make bundle`: no network, no package index.
#
#   sudo ./install.sh                      install into /opt/xkxl and set the server up: user
#                                          xkxl, /var/lib/xkxl, /var/log/xkxl, /var/backups/xkxl,
#                                          /etc/xkxl/xkxl.env, systemd units, logrotate, nginx example
#   ./install.sh --prefix DIR --no-system  only the program (a virtual environment), e.g. to try it
#
# Each bundle goes into its own folder, PREFIX/releases/NAME; PREFIX/current points at the one
# in use. An upgrade only stages the new one (PREFIX/staged): the running service keeps loading
# its own code, templates and static files until `xkxl activate`, which xkxl.service runs as it
# starts; the previous release stays for a rollback.
# Nothing here starts or restarts a service: docs/deploy.md says when.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
PREFIX=/opt/xkxl
SYSTEM=1
PYTHON=${PYTHON:-}  # --python, else Debian's /usr/bin/python3 if it fits the bundle, else python3
SERVICE_USER=xkxl
DEBS="fonts-noto-cjk libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0"
# Only a server install needs it: /etc/logrotate.d/xkxl keeps the log six months (网络安全法 §21).
SYSTEM_DEBS="logrotate"

die() { echo "安装中止：$*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX=$2; shift 2 ;;
    --no-system) SYSTEM=0; shift ;;
    --python) PYTHON=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) die "不认识的参数 $1（--help 查看用法）" ;;
  esac
done

# shellcheck source=/dev/null
. "$HERE/BUNDLE"   # NAME, VERSION, PYTHON_TAG, PLATFORM, COMMIT

# 1. What the server must already have: the same Python, its venv module, the Debian libraries.
# Debian's own Python first: a python3 earlier on root's PATH (pyenv's under /root, mode 700) makes
# a venv whose interpreter the service user cannot even execute.
if [ -z "$PYTHON" ]; then
  if [ -x /usr/bin/python3 ] &&
     [ "$(/usr/bin/python3 -c 'import sys; print("cp%d%d" % sys.version_info[:2])' 2>/dev/null)" = "$PYTHON_TAG" ]; then
    PYTHON=/usr/bin/python3
  else
    PYTHON=python3
  fi
fi
command -v "$PYTHON" >/dev/null || die "找不到 $PYTHON：请安装 Debian 的 python3（3.11）"
HAVE_TAG=$("$PYTHON" -c 'import sys; print("cp%d%d" % sys.version_info[:2])')
[ "$HAVE_TAG" = "$PYTHON_TAG" ] ||
  die "此安装包为 $PYTHON_TAG 构建，而 $PYTHON 是 $HAVE_TAG：请在同版本的机器上重新 make bundle"
"$PYTHON" -c 'import ensurepip, venv' 2>/dev/null ||
  die "缺少 Python 的 venv 模块：请安装 Debian 包 python3-venv"
if [ "$SYSTEM" = 1 ]; then DEBS="$DEBS $SYSTEM_DEBS"; fi
if command -v dpkg-query >/dev/null; then
  missing=""
  for pkg in $DEBS; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
      missing="$missing $pkg"
  done
  [ -z "$missing" ] ||
    die "缺少系统软件包：$missing。请从 Debian 安装介质安装（docs/deploy.md 第1.2节）：apt-get install$missing"
fi
if [ "$SYSTEM" = 1 ] && [ "$(id -u)" -ne 0 ]; then
  die "设置系统（用户、目录、systemd）需要 root：sudo ./install.sh；只装程序用 --prefix DIR --no-system"
fi

# 2. The program: a fresh virtual environment, every package from ./wheels, the index never asked.
RELEASE="$PREFIX/releases/$NAME"
# An upgrade when another release is installed; else the first install (perhaps built again).
UPGRADE=0
for other in "$PREFIX"/releases/*/; do
  [ -d "$other" ] && [ "$(basename "$other")" != "$NAME" ] && UPGRADE=1
done
# The release PREFIX/current names may be built again (e.g. with another --python after a failed
# first install) only while nothing runs it: every service process and xkxl command holds the
# instance lock shared while it runs (as `xkxl activate` checks).
if [ "$(readlink "$PREFIX/current" 2>/dev/null)" = "releases/$NAME" ]; then
  ENV_FILE=${XKXL_ENV_FILE:-/etc/xkxl/xkxl.env}
  instance=${XKXL_INSTANCE_PATH:-$(sed -n 's/^XKXL_INSTANCE_PATH=//p' "$ENV_FILE" 2>/dev/null | tail -n 1)}
  [ -n "$instance" ] ||
    die "$NAME 就是 $PREFIX/current 所指的版本，而 $ENV_FILE 中没有 XKXL_INSTANCE_PATH，无法确认没有服务或命令在使用它，不能在它上面重装"
  if [ -e "$instance/.xkxl.lock" ] && ! flock -n -x "$instance/.xkxl.lock" true; then
    die "$NAME 是正在使用的版本（$PREFIX/current），服务或 xkxl 命令正在运行，不能在它上面重装。请先 sudo systemctl stop xkxl"
  fi
  echo "$NAME 就是 $PREFIX/current 所指的版本，没有服务或命令在使用它：重新安装"
fi
echo "安装 $NAME 到 $RELEASE"
rm -rf "$RELEASE"
mkdir -p "$PREFIX/releases" "$PREFIX/bin"
"$PYTHON" -m venv "$RELEASE/venv"
"$RELEASE/venv/bin/python" -m pip --isolated --disable-pip-version-check --no-input install \
  --no-index --find-links "$HERE/wheels" --only-binary=:all: --no-cache-dir --quiet \
  "xkxl_intranet==$VERSION"
cp -a "$HERE/static" "$RELEASE/static"
mkdir -p "$RELEASE/docs" && cp -a "$HERE/docs/." "$RELEASE/docs/"
cp "$HERE/BUNDLE" "$RELEASE/BUNDLE"

# 3. Does it work here: imports, and a PDF with Chinese text (fonts, pango, harfbuzz).
"$RELEASE/venv/bin/python" - <<'PY' || die "自检失败：程序或系统库不完整（见上面的错误）"
import weasyprint
import xkxl_intranet
pdf = weasyprint.HTML(string='<p style="font-family: \'Noto Sans CJK SC\'">四川省经济和信息化厅</p>').write_pdf()
assert pdf.startswith(b"%PDF"), "no PDF"
print("自检通过：", xkxl_intranet.__file__)
PY

# The service's user must be able to run this interpreter: checked before anything is switched, so
# a failed install leaves the server as it was.
if [ "$SYSTEM" = 1 ]; then
  id "$SERVICE_USER" >/dev/null 2>&1 ||
    useradd --system --user-group --home-dir /var/lib/xkxl --shell /usr/sbin/nologin "$SERVICE_USER"
  RUNUSER=$(PATH="$PATH:/usr/sbin:/sbin" command -v runuser) || die "找不到 runuser（Debian 包 util-linux）"
  (cd / && "$RUNUSER" -u "$SERVICE_USER" -- "$RELEASE/venv/bin/python" -c '') ||
    die "服务用户 $SERVICE_USER 不能运行 $RELEASE/venv/bin/python（它由 $PYTHON 建立：$(readlink -f "$RELEASE/venv/bin/python")，" \
        "所在目录 $SERVICE_USER 无权进入，如 /root 下 pyenv 的 Python）。请用 Debian 的 Python 重新安装：" \
        "sudo ./install.sh --python /usr/bin/python3（没有时先安装 Debian 包 python3 和 python3-venv）"
fi

# The admin command switches to the service's user xkxl; a program-only install runs as its caller.
if [ "$SYSTEM" = 1 ]; then
  install -m 755 "$HERE/deploy/xkxl" "$PREFIX/bin/xkxl"
else
  sed 's/^SERVICE_USER=xkxl$/SERVICE_USER=/' "$HERE/deploy/xkxl" > "$PREFIX/bin/xkxl.new"
  chmod 755 "$PREFIX/bin/xkxl.new" && mv "$PREFIX/bin/xkxl.new" "$PREFIX/bin/xkxl"
fi
if [ "$(readlink "$PREFIX/current" 2>/dev/null)" = "releases/$NAME" ]; then  # built again, above
  echo "$PREFIX/current -> releases/$NAME"
elif [ -e "$PREFIX/current" ]; then  # an upgrade: staged, in use from the service's next start
  ln -sfn "releases/$NAME" "$PREFIX/staged.new" && mv -T "$PREFIX/staged.new" "$PREFIX/staged"
  echo "$PREFIX/staged -> releases/$NAME（待启用；正在使用的仍是 $PREFIX/current -> $(readlink "$PREFIX/current")）"
else  # the first install: nothing runs yet
  ln -sfn "releases/$NAME" "$PREFIX/current.new" && mv -T "$PREFIX/current.new" "$PREFIX/current"
  echo "$PREFIX/current -> releases/$NAME"
fi

[ "$SYSTEM" = 1 ] || { echo "完成（只安装了程序）：$PREFIX/bin/xkxl --help"; exit 0; }

# 4. The server: its folders (the user xkxl was made above), settings, units, log rotation.
install -d -o xkxl -g xkxl -m 750 /var/lib/xkxl /var/log/xkxl
install -d -o xkxl -g xkxl -m 700 /var/backups/xkxl
# ZIP archives the app builds and nginx sends (X-Accel-Redirect): nginx's group may read them, and
# every file and folder made in it keeps that group (the setgid bit).
install -d -o xkxl -g "$(getent group www-data >/dev/null && echo www-data || echo xkxl)" -m 2750 /var/cache/xkxl
install -d -m 755 /etc/xkxl
[ -f /etc/xkxl/xkxl.env ] || install -m 640 -o root -g xkxl "$HERE/deploy/xkxl.env" /etc/xkxl/xkxl.env
install -m 644 "$HERE/deploy/xkxl.service" "$HERE/deploy/xkxl-backup.service" \
  "$HERE/deploy/xkxl-backup.timer" /etc/systemd/system/
install -m 644 "$HERE/deploy/logrotate-xkxl" /etc/logrotate.d/xkxl
install -D -m 644 "$HERE/deploy/nginx-xkxl.conf" /etc/xkxl/nginx-xkxl.conf.example
ln -sfn "$PREFIX/bin/xkxl" /usr/local/bin/xkxl
if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi

echo "完成。接下来（docs/deploy.md 有详细说明）："
if [ "$UPGRADE" = 1 ]; then
  cat <<EOF
  升级：新版本已放好，正在运行的服务不受影响，重启时才启用（docs/deploy.md 第5节）：
    sudo systemctl start xkxl-backup && sudo systemctl stop xkxl && sudo xkxl activate
    sudo xkxl init-db && sudo xkxl read-forms && sudo systemctl start xkxl
EOF
else
  cat <<EOF
  首次安装（docs/deploy.md 第1.4节起）：
    sudo xkxl init-db && sudo xkxl create-user 用户名 --role province --name 姓名
    sudo systemctl enable --now xkxl xkxl-backup.timer
    nginx：/etc/xkxl/nginx-xkxl.conf.example → /etc/nginx/sites-available/xkxl.conf（并删除 /etc/nginx/sites-enabled/default）
EOF
fi
