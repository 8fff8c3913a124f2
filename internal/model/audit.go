package model

import "time"

// Audit actions. Other packages may record their own (e.g. "source.add");
// keep them "noun.verb" so the log reads and filters alike.
const (
	AuditLogin          = "auth.login"
	AuditLoginFailed    = "auth.login_failed"
	AuditLogout         = "auth.logout"
	AuditLogoutAll      = "auth.logout_all"
	AuditSetup          = "auth.setup"
	AuditItemApprove    = "item.approve"
	AuditItemReject     = "item.reject"
	AuditItemRequeue    = "item.requeue"
	AuditItemDuplicate  = "item.duplicate" // filed as a duplicate of the version approved
	AuditItemClip       = "item.clip"      // a curator clipped a story by its address
	AuditItemEdit       = "item.edit"
	AuditItemDelete     = "item.delete"
	AuditUserAdd        = "user.add"
	AuditUserRole       = "user.role"
	AuditUserPassword   = "user.password"
	AuditUserDisable    = "user.disable"
	AuditUserEnable     = "user.enable"
	AuditUserRemove     = "user.remove"
	AuditTokenAdd       = "token.add"
	AuditTokenRevoke    = "token.revoke"
	AuditFeedTokenReset = "token.feed_reset"
	AuditSourceAdd      = "source.add"
	AuditSourceChange   = "source.change"
	AuditSourceRemove   = "source.remove"
	AuditEditionPublish = "edition.publish"
	AuditEditionCorrect = "edition.correct"
)

// AuditEvent is one line of the audit log. Seq is assigned by the store and
// orders events; Time is when it happened.
type AuditEvent struct {
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target,omitempty"`
	Detail string    `json:"detail,omitempty"`
	IP     string    `json:"ip,omitempty"`
}
