package sqlstore

// The schema itself is the numbered migrations under migrations/; see migrate.go.

// columns is the order every query reads and writes a record in.
const columns = `id, time_ns, trigger_type, actor, source_ip, user_agent, action, params, idempotency_key,
	outcome, pending_id, local_task_id, registry_task_id, tcss_request_id, error_code, error_message,
	function_request_id, endpoint, credential, access, related_id, prev_hash, hash`

// placeholders is one ? per column, for INSERT.
const placeholders = `?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?`

// columnCount is the number of columns.
const columnCount = 23
