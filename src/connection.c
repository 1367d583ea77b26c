/*
 * connection.c: sharing a sandbox with another account.
 *
 * Only the sandbox's owner grants, revokes and lists.  Grants and revokes
 * first take the sandbox row's lock (a no-op UPDATE), so that they queue
 * behind one another and behind writes by editors: the max_connections
 * count taken afterwards, with a fresh snapshot, is exact, and an editor's
 * write can never slip past a revoke that committed while it waited.  A grant
 * that has expired or was revoked gives no access from that moment: the
 * status is computed when read (copass_data.connection_status), never by a job.
 */
#include "copass.h"

#include "funcapi.h"
#include "miscadmin.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(copass_connection_grant);
PG_FUNCTION_INFO_V1(copass_connection_revoke);
PG_FUNCTION_INFO_V1(copass_connection_list);
PG_FUNCTION_INFO_V1(copass_has_grant);

/* The columns of copass.connection, from copass_data.connection c */
#define CONNECTION_COLUMNS \
	" c.connection_id, c.sandbox_id, c.grantee_account_id, c.role, c.label," \
	" c.expires_at, c.revoked_at, c.created_by, c.created_at," \
	" copass_data.connection_status(c.revoked_at, c.expires_at)"

/*
 * Lock the owner's sandbox ($1 its account, filled in here; $2 its id), leaving
 * its tier's max_connections as the SPI result; PT404 when the caller cannot
 * see it, 42501 when the caller is not its owner.
 */
static void
lock_owned_sandbox(Datum *account_and_sandbox)
{
	static CopassPlan lock_plan = {
		"UPDATE copass_data.sandbox s SET updated_at = s.updated_at"
		" WHERE s.account_id OPERATOR(pg_catalog.=) $1 AND s.sandbox_id OPERATOR(pg_catalog.=) $2"
		" RETURNING (SELECT t.max_connections FROM copass_data.tiers t"
		"             WHERE t.tier OPERATOR(pg_catalog.=) s.tier)",
		2, {"pg_catalog.uuid", "pg_catalog.uuid"}
	};
	CopassVisible sandbox = copass_visible_sandbox(account_and_sandbox[1], false);

	copass_require_access(&sandbox, COPASS_OWNER);
	account_and_sandbox[0] = sandbox.account_id;
	if (copass_execute(&lock_plan, account_and_sandbox, NULL, false, SPI_OK_UPDATE_RETURNING) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_COPASS_NOT_FOUND),
				 errmsg("sandbox not found")));
}

/*
 * copass.connection_grant(sandbox_id, grantee_account_id, role, expires_at,
 * label) -> copass.connection.  Granting again to the same grantee updates
 * the grant (and makes a revoked one active again).
 */
Datum
copass_connection_grant(PG_FUNCTION_ARGS)
{
	static CopassPlan count_plan = {
		"SELECT pg_catalog.count(*) FROM copass_data.connection c"
		" WHERE c.account_id OPERATOR(pg_catalog.=) $1 AND c.sandbox_id OPERATOR(pg_catalog.=) $2"
		"   AND c.grantee_account_id OPERATOR(pg_catalog.<>) $3"
		"   AND copass_data.connection_status(c.revoked_at, c.expires_at) OPERATOR(pg_catalog.=) 'active'",
		3, {"pg_catalog.uuid", "pg_catalog.uuid", "pg_catalog.uuid"}
	};
	static CopassPlan upsert_plan = {
		"INSERT INTO copass_data.connection AS c (account_id, sandbox_id, grantee_account_id,"
		"   connection_id, role, label, expires_at, created_by, created_at, updated_at)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $1, pg_catalog.now(), pg_catalog.now())"
		" ON CONFLICT (account_id, sandbox_id, grantee_account_id) DO UPDATE"
		"   SET role = excluded.role, label = excluded.label, expires_at = excluded.expires_at,"
		"       revoked_at = NULL, updated_at = excluded.updated_at"
		" RETURNING" CONNECTION_COLUMNS,
		7, {"pg_catalog.uuid", "pg_catalog.uuid", "pg_catalog.uuid", "pg_catalog.uuid",
		"copass.access_level", "pg_catalog.text", "pg_catalog.timestamptz"}
	};
	pg_uuid_t	account;
	pg_uuid_t  *connection_id = palloc(sizeof(pg_uuid_t));
	Datum		values[7] = {0};
	char		nulls[7] = "       ";
	bool		isnull;
	Datum		max_connections;
	Datum		result;

	PreventCommandIfReadOnly("copass.connection_grant()");
	copass_require_account(&account);
	copass_check_not_null(fcinfo, 0, "sandbox_id");
	copass_check_not_null(fcinfo, 1, "grantee_account_id");
	copass_check_not_null(fcinfo, 2, "role");
	if (copass_enum_is(PG_GETARG_DATUM(2), "owner"))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("role must be editor or viewer")));
	if (memcmp(PG_GETARG_UUID_P(1)->data, account.data, UUID_LEN) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a sandbox cannot be shared with its own account")));
	if (!PG_ARGISNULL(3) &&
		PG_GETARG_TIMESTAMPTZ(3) <= GetCurrentTimestamp())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("expires_at must be in the future")));

	values[1] = PG_GETARG_DATUM(0);
	values[2] = PG_GETARG_DATUM(1);
	copass_uuid7(connection_id);
	values[3] = UUIDPGetDatum(connection_id);
	values[4] = PG_GETARG_DATUM(2);
	if (PG_ARGISNULL(4))
		nulls[5] = 'n';
	else
		values[5] = PointerGetDatum(copass_check_name(PG_GETARG_TEXT_PP(4), "label"));
	if (PG_ARGISNULL(3))
		nulls[6] = 'n';
	else
		values[6] = PG_GETARG_DATUM(3);

	copass_spi_connect();
	lock_owned_sandbox(values);
	max_connections = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
	{
		copass_execute(&count_plan, values, NULL, false, SPI_OK_SELECT);
		if (DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) >=
			DatumGetInt32(max_connections))
			ereport(ERROR,
					(errcode(ERRCODE_COPASS_QUOTA),
					 errmsg("the sandbox has reached the connection limit of its tier"),
					 errhint("Revoke a connection or use a higher tier; the limits are in copass.tier_limits.")));
	}
	copass_execute(&upsert_plan, values, nulls, false, SPI_OK_INSERT_RETURNING);
	result = copass_result_row(fcinfo, SPI_tuptable->vals[0], SPI_tuptable->tupdesc);
	SPI_finish();
	PG_RETURN_DATUM(result);
}

/* copass.connection_revoke(sandbox_id, grantee_account_id) -> copass.connection */
Datum
copass_connection_revoke(PG_FUNCTION_ARGS)
{
	static CopassPlan revoke_plan = {
		"UPDATE copass_data.connection c"
		"   SET revoked_at = COALESCE(c.revoked_at, pg_catalog.clock_timestamp()),"
		"       updated_at = pg_catalog.now()"
		" WHERE c.account_id OPERATOR(pg_catalog.=) $1 AND c.sandbox_id OPERATOR(pg_catalog.=) $2"
		"   AND c.grantee_account_id OPERATOR(pg_catalog.=) $3"
		" RETURNING" CONNECTION_COLUMNS,
		3, {"pg_catalog.uuid", "pg_catalog.uuid", "pg_catalog.uuid"}
	};
	pg_uuid_t	account;
	Datum		values[3] = {0};
	Datum		result;

	PreventCommandIfReadOnly("copass.connection_revoke()");
	copass_require_account(&account);
	copass_check_not_null(fcinfo, 0, "sandbox_id");
	copass_check_not_null(fcinfo, 1, "grantee_account_id");
	values[1] = PG_GETARG_DATUM(0);
	values[2] = PG_GETARG_DATUM(1);

	copass_spi_connect();
	lock_owned_sandbox(values);
	if (copass_execute(&revoke_plan, values, NULL, false, SPI_OK_UPDATE_RETURNING) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_COPASS_NOT_FOUND),
				 errmsg("connection not found"),
				 errdetail("The sandbox has no connection to that account.")));
	result = copass_result_row(fcinfo, SPI_tuptable->vals[0], SPI_tuptable->tupdesc);
	SPI_finish();
	PG_RETURN_DATUM(result);
}

/* copass.connection_list(sandbox_id, include_revoked) -> SETOF copass.connection, oldest first */
Datum
copass_connection_list(PG_FUNCTION_ARGS)
{
	static CopassPlan list_plan = {
		"SELECT" CONNECTION_COLUMNS " FROM copass_data.connection c"
		" WHERE c.account_id OPERATOR(pg_catalog.=) $1 AND c.sandbox_id OPERATOR(pg_catalog.=) $2"
		"   AND ($3 OR c.revoked_at IS NULL)"
		" ORDER BY c.connection_id",
		3, {"pg_catalog.uuid", "pg_catalog.uuid", "pg_catalog.bool"}
	};
	pg_uuid_t	account;
	CopassVisible sandbox;
	Datum		values[3];

	copass_require_account(&account);
	copass_check_not_null(fcinfo, 0, "sandbox_id");
	copass_check_not_null(fcinfo, 1, "include_revoked");

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	copass_spi_connect();
	sandbox = copass_visible_sandbox(PG_GETARG_DATUM(0), true);
	copass_require_access(&sandbox, COPASS_OWNER);
	values[0] = sandbox.account_id;
	values[1] = PG_GETARG_DATUM(0);
	values[2] = PG_GETARG_DATUM(1);
	copass_execute(&list_plan, values, NULL, true, SPI_OK_SELECT);
	copass_return_rows(fcinfo);
	SPI_finish();
	return (Datum) 0;
}

/*
 * copass_data.has_grant(account_id, sandbox_id, needed) -> boolean: whether
 * the calling account holds an active grant on that sandbox giving at least
 * `needed` (a grant never gives owner).  The sandbox policies call it only
 * for rows the caller does not own.  Every call looks the grant up (one
 * probe of the connection table's primary key), so a grant that expires or
 * is revoked stops counting at once, even within one statement, and the cost
 * does not depend on how many grants the caller holds.
 */
Datum
copass_has_grant(PG_FUNCTION_ARGS)
{
	static CopassPlan grant_plan = {
		"SELECT EXISTS (SELECT FROM copass_data.grants_to_me g"
		" WHERE g.account_id OPERATOR(pg_catalog.=) $1 AND g.sandbox_id OPERATOR(pg_catalog.=) $2"
		"   AND g.role OPERATOR(pg_catalog.>=) $3)",
		3, {"pg_catalog.uuid", "pg_catalog.uuid", "copass.access_level"}
	};
	Datum		values[3] = {PG_GETARG_DATUM(0), PG_GETARG_DATUM(1), PG_GETARG_DATUM(2)};
	bool		isnull;
	bool		held;

	copass_spi_connect();
	copass_execute(&grant_plan, values, NULL, true, SPI_OK_SELECT);
	held = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	PG_RETURN_BOOL(held);
}
