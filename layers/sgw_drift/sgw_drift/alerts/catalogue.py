"""Every alert text in English and Japanese, and the helpers that format times and numbers.

Placeholders use `str.format` names. A unit test checks that both languages define the same
keys with the same placeholders, so a message can never be missing in one language.
"""

from __future__ import annotations

from datetime import datetime

from .model import Language

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        # Titles: the first line of every format.
        "title.opened": "Drift detected on {share}",
        "title.opened.unverified": "Direct edit on {share} (share not verifiable)",
        "title.updated": "Drift still open on {share}",
        "title.failed": "Cache refresh failed on {share}",
        "title.escalated": "Drift unresolved for {duration} on {share}",
        "title.resolved": "Drift resolved on {share}",
        "title.audit": "Fleet Manager {operation} on {instance}",
        # One-sentence summaries.
        "summary.opened": "The file share does not show what its S3 bucket holds.",
        "summary.opened.unverified": (
            "The S3 bucket was edited directly. The share cannot be listed, so sgw-drift refreshes it on the "
            "strength of the S3 events alone."
        ),
        "summary.updated": "More differences were found while the incident is open.",
        "summary.failed": "The gateway rejected a cache refresh, so the share may stay out of date.",
        "summary.escalated": (
            "The share has not matched its bucket for {duration}, and the incident is still open."
        ),
        "summary.resolved": "The file share shows what its S3 bucket holds again.",
        "summary.audit": "A file on a watched share was changed through Systems Manager Fleet Manager.",
        # Field labels.
        "label.share": "Share",
        "label.gateway": "Gateway",
        "label.location": "Location",
        "label.first_edit": "First direct edit",
        "label.last_seen": "Last seen",
        "label.opened": "Opened",
        "label.escalated": "Escalated",
        "label.resolved": "Resolved",
        "label.stale_for": "Stale for",
        "label.open_for": "Open for",
        "label.mode": "Mode",
        "label.differences": "Differences",
        "label.paths": "Paths ({shown} of {total})",
        "label.refreshes": "Refreshes requested",
        "label.notification_ids": "Notification ids",
        "label.failures": "Refresh errors",
        "label.incident": "Incident",
        "label.next_steps": "Next steps",
        "label.operation": "Operation",
        "label.principal": "Who",
        "label.session": "Session",
        "label.event_time": "When",
        "label.instance": "Instance",
        "label.audit_paths": "Paths",
        "label.drift_after": "Drift found after the operation",
        # Values.
        "value.unverified": "unverified: no share listing, decided from S3 events alone",
        "value.none": "-",
        "value.unknown_path": "unknown: the command's parameters could not be read",
        "value.more_paths": "and {count} more",
        "value.refresh_count": "{count}",
        # Drift kinds, as the comparison reports them.
        "kind.missing_on_share": "in the bucket, not on the share",
        "kind.only_on_share": "on the share, gone from the bucket",
        "kind.size_differs": "size differs",
        "kind.stale_content": "changed in the bucket, old content on the share",
        "kind.unrepresentable": "key the share cannot show",
        "kind.unverified_edit": "direct edit (share not verifiable)",
        # What happens next, or what a person should do.
        "next.opened": (
            "sgw-drift requests a cache refresh for the affected folders and reports when it is fixed."
        ),
        "next.opened.unverified": (
            "Add a mount host for this share to ShareOptions so that sgw-drift can verify its listing."
        ),
        "next.failed": (
            "Check the refresh errors below, the gateway's health and its access to the bucket; "
            "sgw-drift retries a bounded number of times."
        ),
        "next.escalated": (
            "Check the refresh errors, the gateway's health and the refresh slots; run RefreshCache "
            "by hand if the share must be fixed now."
        ),
        "next.audit": "Confirm that the operation was expected.",
        # Durations.
        "duration.seconds": "{seconds} s",
        "duration.minutes": "{minutes} min",
        "duration.hours": "{hours} h {minutes} min",
        "duration.days": "{days} d {hours} h",
        # CloudWatch alarms that reach the Slack notifier through the same topic.
        "alarm.title": "CloudWatch alarm {name}: {state}",
        "alarm.reason": "Reason",
        "alarm.changed": "Changed",
        "alarm.region": "Region",
    },
    "ja": {
        "title.opened": "{share} でドリフトを検出しました",
        "title.opened.unverified": "{share} で直接編集を検出しました (共有を検証できません)",
        "title.updated": "{share} のドリフトは継続中です",
        "title.failed": "{share} のキャッシュ更新に失敗しました",
        "title.escalated": "{share} のドリフトが {duration} 解消されていません",
        "title.resolved": "{share} のドリフトは解消しました",
        "title.audit": "{instance} で Fleet Manager の {operation} が実行されました",
        "summary.opened": "ファイル共有が S3 バケットの内容と一致していません。",
        "summary.opened.unverified": (
            "S3 バケットが直接編集されました。共有の一覧を取得できないため、S3 イベントだけを根拠に"
            "キャッシュを更新します。"
        ),
        "summary.updated": "インシデントの対応中に新たな差分が見つかりました。",
        "summary.failed": "ゲートウェイがキャッシュ更新を拒否したため、共有は古いままの可能性があります。",
        "summary.escalated": (
            "共有がバケットと一致しない状態が {duration} 続いており、インシデントは未解決です。"
        ),
        "summary.resolved": "ファイル共有は S3 バケットの内容と再び一致しています。",
        "summary.audit": "監視対象の共有上のファイルが Systems Manager Fleet Manager から変更されました。",
        "label.share": "共有",
        "label.gateway": "ゲートウェイ",
        "label.location": "場所",
        "label.first_edit": "最初の直接編集",
        "label.last_seen": "最終検出",
        "label.opened": "発生",
        "label.escalated": "エスカレーション",
        "label.resolved": "解消",
        "label.stale_for": "不一致の期間",
        "label.open_for": "経過時間",
        "label.mode": "モード",
        "label.differences": "差分",
        "label.paths": "パス ({total} 件中 {shown} 件)",
        "label.refreshes": "キャッシュ更新の要求",
        "label.notification_ids": "通知 ID",
        "label.failures": "キャッシュ更新のエラー",
        "label.incident": "インシデント",
        "label.next_steps": "次の対応",
        "label.operation": "操作",
        "label.principal": "実行者",
        "label.session": "セッション",
        "label.event_time": "日時",
        "label.instance": "インスタンス",
        "label.audit_paths": "パス",
        "label.drift_after": "操作後に見つかったドリフト",
        "value.unverified": "未検証: 共有の一覧がなく、S3 イベントのみで判断",
        "value.none": "-",
        "value.unknown_path": "不明: コマンドのパラメータを読み取れませんでした",
        "value.more_paths": "ほか {count} 件",
        "value.refresh_count": "{count} 回",
        "kind.missing_on_share": "バケットにあり共有にない",
        "kind.only_on_share": "共有にありバケットから削除済み",
        "kind.size_differs": "サイズが異なる",
        "kind.stale_content": "バケットで変更され共有の内容が古い",
        "kind.unrepresentable": "共有で表示できないキー",
        "kind.unverified_edit": "直接編集 (共有を検証できない)",
        "next.opened": "sgw-drift が該当フォルダのキャッシュ更新を要求し、解消したら通知します。",
        "next.opened.unverified": (
            "sgw-drift が一覧を検証できるよう、ShareOptions にこの共有のマウントホストを追加してください。"
        ),
        "next.failed": (
            "下記のエラー、ゲートウェイの状態、バケットへのアクセス権を確認してください。"
            "sgw-drift は決められた回数まで再試行します。"
        ),
        "next.escalated": (
            "キャッシュ更新のエラー、ゲートウェイの状態、更新スロットを確認してください。"
            "すぐに直す必要があれば RefreshCache を手動で実行してください。"
        ),
        "next.audit": "想定どおりの操作か確認してください。",
        "duration.seconds": "{seconds} 秒",
        "duration.minutes": "{minutes} 分",
        "duration.hours": "{hours} 時間 {minutes} 分",
        "duration.days": "{days} 日 {hours} 時間",
        "alarm.title": "CloudWatch アラーム {name}: {state}",
        "alarm.reason": "理由",
        "alarm.changed": "変化した日時",
        "alarm.region": "リージョン",
    },
}


class Catalogue:
    """The messages of one language."""

    def __init__(self, language: Language) -> None:
        if language not in MESSAGES:
            raise ValueError(f"unsupported alert language {language!r}: expected one of {sorted(MESSAGES)}")
        self.language = language
        self._messages = MESSAGES[language]

    def __call__(self, key: str, **values: object) -> str:
        return self._messages[key].format(**values)

    def kind(self, kind: str) -> str:
        """Label of a drift kind; an unknown kind from a newer sgw-drift is shown by its name."""
        return self._messages.get(f"kind.{kind}", kind)

    def time(self, moment: datetime | None) -> str:
        if moment is None:
            return self("value.none")
        return moment.strftime("%Y-%m-%d %H:%M:%S UTC")

    def duration(self, seconds: int | None) -> str:
        if seconds is None:
            return self("value.none")
        seconds = max(int(seconds), 0)
        if seconds < 120:
            return self("duration.seconds", seconds=seconds)
        minutes = seconds // 60
        if minutes < 60:
            return self("duration.minutes", minutes=minutes)
        hours, minutes = divmod(minutes, 60)
        if hours < 48:
            return self("duration.hours", hours=hours, minutes=minutes)
        days, hours = divmod(hours, 24)
        return self("duration.days", days=days, hours=hours)

    @staticmethod
    def number(value: int) -> str:
        return f"{value:,}"
