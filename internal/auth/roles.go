package auth

// Role is a staff member's role. Every bound facade method requires one
// Permission; a role has a fixed set of them (see Allows).
type Role string

const (
	// RoleAdmin manages settings, staff, channel credentials, backups and
	// exports, and can work the inbox.
	RoleAdmin Role = "admin"
	// RoleApprover approves campaigns (never their own) and works the inbox.
	RoleApprover Role = "approver"
	// RoleOperator works the inbox, customers and drafts.
	RoleOperator Role = "operator"
	// RoleAuditor reads and exports the audit trail, nothing else.
	RoleAuditor Role = "auditor"
	// RoleAgency (an outside agency) drafts content and sees counts: names,
	// phones, emails and message bodies are masked in every result.
	RoleAgency Role = "agency"
)

// Roles lists every role, for validation and the UI.
func Roles() []Role { return []Role{RoleAdmin, RoleApprover, RoleOperator, RoleAuditor, RoleAgency} }

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, k := range Roles() {
		if r == k {
			return true
		}
	}
	return false
}

// Permission is what a facade method needs.
type Permission string

const (
	// PermSession: any signed-in, unlocked staff member (own password,
	// sign-out, status details).
	PermSession Permission = "session"
	// PermInboxRead: list conversations and read messages (masked for agency).
	PermInboxRead Permission = "inbox.read"
	// PermInboxReply: send replies and retries.
	PermInboxReply Permission = "inbox.reply"
	// PermCustomersRead: view customer records (masked for agency).
	PermCustomersRead Permission = "customers.read"
	// PermCustomersEdit: create, edit and link customer records.
	PermCustomersEdit Permission = "customers.edit"
	// PermImport: import customers from CSV.
	PermImport Permission = "customers.import"
	// PermErase: delete a customer and their messages on request (APPI).
	PermErase Permission = "customers.erase"
	// PermDrafts: write campaign drafts.
	PermDrafts Permission = "drafts"
	// PermApprove: approve campaigns (never one's own: checked by the feature).
	PermApprove Permission = "approve"
	// PermExport: export customer data.
	PermExport Permission = "export"
	// PermSettings: change settings (idle lock, retention, backups).
	PermSettings Permission = "settings"
	// PermChannel: set or clear the LINE channel credentials.
	PermChannel Permission = "channel"
	// PermStaff: manage staff accounts.
	PermStaff Permission = "staff"
	// PermBackup: create and verify backups, show the recovery code.
	PermBackup Permission = "backup"
	// PermAuditRead: view the audit trail.
	PermAuditRead Permission = "audit.read"
	// PermAuditExport: export the audit trail.
	PermAuditExport Permission = "audit.export"
	// PermSandbox: use the simulated customer phone (sandbox mode only).
	PermSandbox Permission = "sandbox"
)

// Allows reports whether role r has permission p. The table is code, not
// data: a role cannot be widened by editing the database.
func (r Role) Allows(p Permission) bool {
	if p == PermSession {
		return r.Valid()
	}
	switch r {
	case RoleAdmin:
		switch p {
		case PermInboxRead, PermInboxReply, PermCustomersRead, PermCustomersEdit, PermImport, PermErase,
			PermDrafts, PermExport, PermSettings, PermChannel, PermStaff, PermBackup, PermAuditRead, PermSandbox:
			return true
		}
	case RoleApprover:
		switch p {
		case PermInboxRead, PermInboxReply, PermCustomersRead, PermCustomersEdit, PermDrafts, PermApprove, PermSandbox:
			return true
		}
	case RoleOperator:
		switch p {
		case PermInboxRead, PermInboxReply, PermCustomersRead, PermCustomersEdit, PermDrafts, PermSandbox:
			return true
		}
	case RoleAuditor:
		switch p {
		case PermAuditRead, PermAuditExport:
			return true
		}
	case RoleAgency:
		switch p {
		case PermInboxRead, PermCustomersRead, PermDrafts:
			return true
		}
	}
	return false
}

// Permissions lists every permission a session can be checked for, in
// the order a window lists what its role may do.
func Permissions() []Permission {
	return []Permission{PermInboxRead, PermInboxReply, PermCustomersRead, PermCustomersEdit, PermImport,
		PermErase, PermDrafts, PermApprove, PermExport, PermSettings, PermChannel,
		PermStaff, PermBackup, PermAuditRead, PermAuditExport, PermSandbox}
}

// Permissions lists what role r may do, in the order of Permissions
// (PermSession, which every role has, is not listed).
func (r Role) Permissions() []Permission {
	var out []Permission
	for _, p := range Permissions() {
		if r.Allows(p) {
			out = append(out, p)
		}
	}
	return out
}

// Masked reports whether personal data (names, phones, emails, message
// bodies) must be masked in results shown to role r.
func (r Role) Masked() bool { return r == RoleAgency }

// RoleInfo is a role with what it may do: the staff screen describes each
// role from this table, so the description cannot drift from Allows.
type RoleInfo struct {
	Role        Role         `json:"role"`
	Permissions []Permission `json:"permissions"`
	Masked      bool         `json:"masked"` // personal data is masked for this role
}

// RoleTable lists every role with its permissions, in the order of Roles.
func RoleTable() []RoleInfo {
	out := make([]RoleInfo, 0, len(Roles()))
	for _, r := range Roles() {
		out = append(out, RoleInfo{Role: r, Permissions: r.Permissions(), Masked: r.Masked()})
	}
	return out
}
