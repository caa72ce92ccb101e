"""Governance: roles, the permission matrix, approvals, access grants and review (pure rules)."""
