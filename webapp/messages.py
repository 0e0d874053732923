"""User-facing messages for error codes and field problems, in Thai (default) and English.

Error codes are stable English identifiers (workflow.errors, and the HTTP-level ones
below); the message is chosen by the reader's language. Field problems come from
workflow.validation as codes such as ``required`` or ``too_long:500``.
"""

from __future__ import annotations

from typing import Any

LANGUAGES = ("th", "en")

ERROR_MESSAGES: dict[str, tuple[str, str]] = {
    "not_found": ("ไม่พบรายการที่ขอ", "Not found."),
    "not_allowed": ("คุณไม่มีสิทธิ์ดำเนินการนี้", "You are not allowed to do this."),
    "not_allowed_step": (
        "คุณไม่มีสิทธิ์ดำเนินการในขั้นนี้ ผู้มีสิทธิ์คือ {may_act}",
        "You may not act at this step; {may_act} may.",
    ),
    "not_allowed_author": (
        "เฉพาะเจ้าของเรื่อง ({may_act}) เท่านั้นที่ดำเนินการนี้ได้",
        "Only the author ({may_act}) may do this.",
    ),
    "invalid_transition": (
        "ไม่สามารถดำเนินการนี้ได้ในสถานะปัจจุบันของเรื่อง ({state})",
        "This action is not possible in the memo's current state ({state}).",
    ),
    "stale_version": (
        "เรื่องนี้มีการเปลี่ยนแปลงหลังจากที่คุณเปิดดู (ฉบับปัจจุบัน {current_version} สถานะ {state}) กรุณาเปิดดูใหม่",
        "The memo changed since you saw it (now version {current_version}, state {state});"
        " reload it.",
    ),
    "already_decided": (
        "ขั้นนี้มีการพิจารณาไปแล้วในรอบนี้",
        "This step was already decided in this round.",
    ),
    "validation_failed": ("ข้อมูลไม่ถูกต้อง: {fields}", "Invalid input: {fields}"),
    "invalid_route": ("เส้นทางเสนอเรื่องไม่ถูกต้อง: {detail}", "Invalid route: {detail}"),
    "malformed_body": (
        "อ่านข้อมูลที่ส่งมาไม่ได้ (JSON ไม่ถูกต้องหรือไม่ใช่ UTF-8)",
        "The request body could not be read (malformed JSON or not UTF-8).",
    ),
    "bad_request": ("คำขอไม่ถูกต้อง", "Bad request."),
    "unauthorized": (
        "กรุณาเข้าสู่ระบบ หรือส่งโทเค็นที่ถูกต้อง (Authorization: Bearer ...)",
        "Authentication required: send a valid token (Authorization: Bearer ...).",
    ),
    "forbidden": ("คุณไม่มีสิทธิ์เข้าถึง", "Forbidden."),
    "method_not_allowed": ("ไม่รองรับวิธีการเรียกนี้", "Method not allowed."),
    "too_large": (
        "ข้อมูลหรือไฟล์มีขนาดใหญ่เกินกำหนด ({limit_mb} MB)",
        "The request or file is too large (limit {limit_mb} MB).",
    ),
    "unsupported_media_type": ("ไม่รองรับชนิดข้อมูลนี้", "Unsupported media type."),
    "too_many_requests": (
        "มีการเรียกใช้บ่อยเกินไป กรุณารอสักครู่",
        "Too many requests; please wait a moment.",
    ),
    "unavailable": (
        "ยังสร้างเอกสารไม่ได้ในขณะนี้: {detail}",
        "This cannot be done right now: {detail}",
    ),
    "busy": (
        "ระบบกำลังบันทึกงานอื่นอยู่และรอนานเกินกำหนด ยังไม่ได้บันทึกสิ่งใด กรุณาลองใหม่อีกครั้งในอีกสักครู่",
        "The system was busy with other changes for too long; nothing was saved."
        " Please try again in a moment.",
    ),
    "database_unavailable": (
        "ขณะนี้ติดต่อฐานข้อมูลไม่ได้ กรุณาลองใหม่ภายหลัง",
        "The database cannot be reached right now; please try again later.",
    ),
    # database_unavailable on a request that would have written, lost before its commit.
    "database_unavailable_unsaved": (
        "ขณะนี้ติดต่อฐานข้อมูลไม่ได้ ยังไม่ได้บันทึกสิ่งใด กรุณาลองใหม่อีกครั้งในอีกสักครู่",
        "The database cannot be reached right now; nothing was saved. Please try again in"
        " a moment.",
    ),
    # database_unavailable when the connection was lost during the commit itself.
    "database_unavailable_during_commit": (
        "การติดต่อฐานข้อมูลขาดหายระหว่างบันทึก จึงไม่ทราบว่าบันทึกสำเร็จหรือไม่"
        " กรุณาเปิดดูรายการอีกครั้งก่อนส่งซ้ำ (การส่งซ้ำด้วย Idempotency-Key เดิมไม่ทำซ้ำ)",
        "The connection to the database was lost while saving, so it is not known whether"
        " it was saved. Look again before sending it again (a retry with the same"
        " Idempotency-Key is not acted on twice).",
    ),
    # The same, on a page: a form sent again carries the same key (webapp.idempotency).
    "database_unavailable_during_commit_page": (
        "การติดต่อฐานข้อมูลขาดหายระหว่างบันทึก จึงไม่ทราบว่าบันทึกสำเร็จหรือไม่"
        " กรุณาเปิดดูเรื่องอีกครั้งก่อนส่งซ้ำ (ย้อนกลับไปส่งแบบฟอร์มเดิมอีกครั้งได้ ระบบจะไม่ทำซ้ำ)",
        "The connection to the database was lost while saving, so it is not known whether"
        " it was saved. Look at the memo again before sending it again (going back and"
        " sending the same form again is not acted on twice).",
    ),
    "storage_full": (
        "พื้นที่จัดเก็บข้อมูลของระบบเต็ม ยังไม่ได้บันทึกสิ่งใด กรุณาแจ้งผู้ดูแลระบบ แล้วลองใหม่เมื่อมีพื้นที่ว่างแล้ว",
        "The server's storage is full; nothing was saved. Please tell the administrator,"
        " and try again once space has been freed.",
    ),
    # storage_full as /healthz reports it (nothing was being saved).
    "storage_full_health": (
        "พื้นที่จัดเก็บของฐานข้อมูลเต็ม บันทึกสิ่งใดเพิ่มไม่ได้ ผู้ดูแลระบบต้องเพิ่มหรือคืนพื้นที่",
        "The database's storage is full: nothing more can be saved until the administrator"
        " frees or adds space.",
    ),
    "database_cannot_write": (
        "ฐานข้อมูลอ่านได้แต่บันทึกไม่ได้ ผู้ดูแลระบบต้องตรวจสอบสิทธิ์การเขียนและพื้นที่ของฐานข้อมูล",
        "The database can be read but not written: the administrator must check its write"
        " permissions and space.",
    ),
    "schema_outdated": (
        "ฐานข้อมูลยังไม่ได้ปรับโครงสร้างเป็นรุ่นที่ระบบนี้ใช้ (อยู่ที่ {revision} ต้องเป็น {expected})"
        " ผู้ดูแลระบบต้องสั่ง memoflow db upgrade",
        "The database schema is at revision {revision}, this code needs {expected}: the"
        " administrator must run memoflow db upgrade.",
    ),
    "idempotency_key_reused": (
        "แบบฟอร์มหรือคำขอนี้ถูกส่งไปแล้วพร้อมข้อมูลอื่น (Idempotency-Key ซ้ำ) กรุณาเปิดหน้าใหม่แล้วส่งอีกครั้ง",
        "This idempotency key was already used for a different request; reload the form or"
        " send a new key.",
    ),
    "internal_error": (
        "เกิดข้อผิดพลาดภายในระบบ ข้อมูลไม่ถูกบันทึก กรุณาลองใหม่",
        "Internal error; nothing was saved. Please try again.",
    ),
}

FIELD_PROBLEMS: dict[str, tuple[str, str]] = {
    "required": ("จำเป็นต้องกรอก", "is required"),
    "not_text": ("ต้องเป็นข้อความ", "must be text"),
    "too_long": ("ยาวเกิน {0} ตัวอักษร", "is longer than {0} characters"),
    "too_short": ("ต้องยาวอย่างน้อย {0} ตัวอักษร", "must be at least {0} characters"),
    "control_characters": (
        "มีอักขระควบคุมที่ไม่อนุญาต",
        "contains control characters",
    ),
    "choice": ("ต้องเป็นค่าใดค่าหนึ่งต่อไปนี้: {0}", "must be one of: {0}"),
    "unknown_field": ("ไม่รู้จักช่องข้อมูลนี้", "is not a known field"),
    "not_integer": ("ต้องเป็นจำนวนเต็ม", "must be a whole number"),
    "bad_filename": ("ชื่อไฟล์ไม่ถูกต้อง", "is not a usable file name"),
    "bidi_filename": (
        "ชื่อไฟล์มีอักขระกลับทิศทางข้อความซึ่งอาจใช้พรางชนิดไฟล์",
        "has right-to-left override characters that can disguise its type",
    ),
    "extension_not_allowed": (
        "ไม่รับไฟล์ชนิดนี้ (รับ: {0})",
        "is not an accepted type (accepted: {0})",
    ),
    "executable": ("เป็นไฟล์โปรแกรม ไม่อนุญาตให้แนบ", "is an executable and cannot be attached"),
    "content_mismatch": (
        "เนื้อไฟล์ไม่ตรงกับนามสกุลของไฟล์",
        "has contents that do not match its extension",
    ),
    "missing_file": ("กรุณาแนบไฟล์", "a file is required"),
    "taken": ("ถูกใช้ไปแล้ว", "is already taken"),
    "ambiguous": ("มีหลายหน่วยงาน กรุณาระบุ", "is ambiguous; name one"),
    "invalid": ("ไม่ถูกต้อง", "is invalid"),
    "too_large": ("มีขนาดใหญ่เกินกำหนด", "is too large"),
    "before_from": ("ต้องไม่ก่อนวันเริ่มต้น", "must not be before the start date"),
    "holds_role": (
        "ผู้นี้ดำรงตำแหน่งนั้นอยู่แล้ว หรือเป็นผู้ดูแลระบบ",
        "already holds that role, or is an admin",
    ),
    "overlapping": (
        "มีผู้ได้รับมอบหมายให้ทำการแทนตำแหน่งนี้ในช่วงเวลาที่ซ้อนกันอยู่แล้ว",
        "someone already acts for this role in an overlapping period",
    ),
    "circular": (
        "การมอบหมายนี้ทำให้เกิดการทำการแทนกันเป็นวง",
        "this authorisation would make acting for each other circular",
    ),
}

FIELD_LABELS_TH = {
    "subject": "เรื่อง",
    "to": "เรียน",
    "unit": "ส่วนราชการ",
    "background": "เรื่องเดิม",
    "facts": "ข้อเท็จจริง",
    "proposal": "ข้อเสนอ/ข้อพิจารณา",
    "urgency": "ชั้นความเร็ว",
    "secrecy": "ชั้นความลับ",
    "opinion": "ความเห็น",
    "decision": "ผลการพิจารณา",
    "action": "การดำเนินการ",
    "version": "ฉบับ",
    "file": "ไฟล์",
    "body": "ข้อมูลที่ส่งมา (JSON)",
    "reason": "เหตุผล",
    "emblem": "ตราครุฑ",
    "password": "รหัสผ่าน",
    "username": "ชื่อผู้ใช้",
    "role": "ตำแหน่งที่ทำการแทน",
    "capacity": "ฐานะ",
    "order": "คำสั่ง",
    "period": "ช่วงเวลา",
}


STATE_LABELS: dict[str, tuple[str, str]] = {
    "draft": ("ร่าง", "draft"),
    "returned": ("ส่งคืนแก้ไข", "returned for revision"),
    "signed": ("ลงนามแล้ว", "signed"),
    "rejected": ("ไม่อนุมัติ", "rejected"),
    "withdrawn": ("ยกเลิกแล้ว", "withdrawn"),
}


def state_label(state: str, language: str) -> str:
    """A state for people: "ลงนามแล้ว", or "รอพิจารณา (head_of_office)" for a step."""
    if state in STATE_LABELS:
        return STATE_LABELS[state][_index(language)]
    if state.startswith("pending_"):
        step = state.removeprefix("pending_")
        return f"รอพิจารณา ({step})" if language != "en" else f"waiting at {step}"
    return state


def _index(language: str) -> int:
    return 1 if language == "en" else 0


def field_problem(problem: str, language: str) -> str:
    """``too_long:500`` → "ยาวเกิน 500 ตัวอักษร" (or English)."""
    code, _, argument = problem.partition(":")
    template = FIELD_PROBLEMS.get(code, FIELD_PROBLEMS["invalid"])[_index(language)]
    return template.format(argument)


def field_errors(errors: dict[str, str], language: str) -> dict[str, str]:
    return {name: field_problem(problem, language) for name, problem in errors.items()}


def describe_fields(errors: dict[str, str], language: str) -> str:
    parts = []
    for name, problem in errors.items():
        label = FIELD_LABELS_TH.get(name, name) if language == "th" else name
        parts.append(f"{label} {field_problem(problem, language)}")
    return "; ".join(parts)


def error_message(code: str, language: str, **params: Any) -> str:
    if isinstance(params.get("state"), str):
        params["state"] = state_label(params["state"], language)
    template = ERROR_MESSAGES.get(code, ERROR_MESSAGES["bad_request"])[_index(language)]
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return (
            ERROR_MESSAGES.get(code, ERROR_MESSAGES["bad_request"])[_index(language)]
            .split("{")[0]
            .strip()
        )
