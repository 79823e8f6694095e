"""What runs and survives a crash: the poll loop, the state file and its checks, recovery, the audit, order references."""
