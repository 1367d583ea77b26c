/*
 * sandbox.c: the SQL-callable sandbox API.
 *
 * Every function runs with the caller's rights: it finds the calling account,
 * checks its arguments, then reads and writes through kept SPI plans whose
 * rows row-level security has already filtered.  A single sandbox is read
 * through the view copass.sandboxes (with the caller's access level); a page
 * of a listing reads the tables in index order, in the view's shape.  A
 * sandbox the caller cannot see is PT404, whether it exists or not.
 */
#include "copass.h"

#include "access/xact.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(copass_tier_limits);
PG_FUNCTION_INFO_V1(copass_sandbox_create);
PG_FUNCTION_INFO_V1(copass_sandbox_list_by_owner);
PG_FUNCTION_INFO_V1(copass_sandbox_get);
PG_FUNCTION_INFO_V1(copass_sandbox_update);
PG_FUNCTION_INFO_V1(copass_sandbox_set_status);
PG_FUNCTION_INFO_V1(copass_sandbox_delete);

/* The columns of copass.sandbox from the view v, with `access` given */
#define SANDBOX_SELECT(access) \
	"SELECT v.sandbox_id, v.account_id, v.owner_id, v.name, v.tier, v.status," \
	" v.storage_provider_type, v.storage_config, v.limits, v.metadata, " access "," \
	" v.is_external, v.created_at, v.updated_at"

#define NUM_SANDBOX_COLUMNS 14

/* Column numbers (1-based) in copass_visible_sandbox's query */
#define VISIBLE_ACCOUNT_COLUMN 2
#define VISIBLE_CAN_EDIT_COLUMN (NUM_SANDBOX_COLUMNS + 1)
#define VISIBLE_IS_OWNER_COLUMN (NUM_SANDBOX_COLUMNS + 2)

/*
 * Find the sandbox the caller can see with this id, or raise PT404.  The row
 * and account stay valid until SPI_finish.
 */
CopassVisible
copass_visible_sandbox(Datum sandbox_id, bool read_only)
{
	static CopassPlan visible_plan = {
		SANDBOX_SELECT("v.access") ", v.access OPERATOR(pg_catalog.>=) 'editor'::copass.access_level,"
		" v.access OPERATOR(pg_catalog.=) 'owner'::copass.access_level"
		" FROM copass.sandboxes v WHERE v.sandbox_id OPERATOR(pg_catalog.=) $1",
		1, {"pg_catalog.uuid"}
	};
	CopassVisible sandbox;
	bool		isnull;

	if (copass_execute(&visible_plan, &sandbox_id, NULL, read_only, SPI_OK_SELECT) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_COPASS_NOT_FOUND),
				 errmsg("sandbox not found")));
	sandbox.row = SPI_tuptable->vals[0];
	sandbox.desc = SPI_tuptable->tupdesc;
	sandbox.account_id = SPI_getbinval(sandbox.row, sandbox.desc, VISIBLE_ACCOUNT_COLUMN, &isnull);
	if (DatumGetBool(SPI_getbinval(sandbox.row, sandbox.desc, VISIBLE_IS_OWNER_COLUMN, &isnull)))
		sandbox.access = COPASS_OWNER;
	else if (DatumGetBool(SPI_getbinval(sandbox.row, sandbox.desc, VISIBLE_CAN_EDIT_COLUMN, &isnull)))
		sandbox.access = COPASS_EDITOR;
	else
		sandbox.access = COPASS_VIEWER;
	return sandbox;
}

/* 42501 unless the caller's access level is at least `needed` */
void
copass_require_access(const CopassVisible *sandbox, CopassAccess needed)
{
	if (sandbox->access >= needed)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 needed == COPASS_OWNER ?
			 errmsg("only the sandbox's owner can do this") :
			 errmsg("a viewer cannot change this sandbox")));
}

/* A copass.limits value from the copass_data.tiers row t */
#define LIMITS_OF_TIER_ROW \
	"ROW(t.max_storage_bytes, t.max_data_sources, t.max_projects, t.max_connections," \
	" t.max_sandboxes, t.allow_custom_s3)::copass.limits"

/*
 * The limits of the tiers tier_limits has read, and the snapshot it read them
 * with: a snapshot with the same bounds, command and count of finished
 * transactions sees the same rows, so the cached limits hold for it.
 */
#define CACHED_TIERS 8
typedef struct TierLimitsCache
{
	TransactionId xmin;
	TransactionId xmax;
	CommandId	curcid;
	uint64		completed;		/* snapXactCompletionCount */
	int			count;
	Datum		tier[CACHED_TIERS];
	Datum		limits[CACHED_TIERS];	/* 0: the tier has no row */
} TierLimitsCache;

/*
 * copass.tier_limits(tier) -> copass.limits.  Each tier is read once per
 * snapshot (the cache lives with the calling expression), so a listing that
 * shows every row's limits reads copass_data.tiers once per tier, and a
 * PL/pgSQL loop still sees a change made or committed since its last call.
 */
Datum
copass_tier_limits(PG_FUNCTION_ARGS)
{
	static CopassPlan limits_plan = {
		"SELECT " LIMITS_OF_TIER_ROW " FROM copass_data.tiers t WHERE t.tier OPERATOR(pg_catalog.=) $1",
		1, {"copass.tier"}
	};
	TierLimitsCache *cache = fcinfo->flinfo->fn_extra;
	Snapshot	snapshot = GetActiveSnapshot();
	Datum		tier;
	Datum		limits = (Datum) 0;
	bool		isnull = true;
	int			i;

	copass_check_not_null(fcinfo, 0, "tier");
	tier = PG_GETARG_DATUM(0);
	if (cache == NULL)
		cache = fcinfo->flinfo->fn_extra =
			MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(TierLimitsCache));
	if (cache->xmin != snapshot->xmin || cache->xmax != snapshot->xmax ||
		cache->curcid != snapshot->curcid || cache->completed != snapshot->snapXactCompletionCount)
	{
		for (i = 0; i < cache->count; i++)
			if (cache->limits[i] != (Datum) 0)
				pfree(DatumGetPointer(cache->limits[i]));
		cache->count = 0;
		cache->xmin = snapshot->xmin;
		cache->xmax = snapshot->xmax;
		cache->curcid = snapshot->curcid;
		cache->completed = snapshot->snapXactCompletionCount;
	}
	for (i = 0; i < cache->count && cache->tier[i] != tier; i++)
		;
	if (i == cache->count)
	{
		/* where the row is kept: with the cache, or for this call only */
		MemoryContext keep = i < CACHED_TIERS ? fcinfo->flinfo->fn_mcxt : CurrentMemoryContext;

		copass_spi_connect();
		if (copass_execute(&limits_plan, &tier, NULL, true, SPI_OK_SELECT) == 1)
			limits = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		if (!isnull)
		{
			MemoryContext spi = MemoryContextSwitchTo(keep);

			limits = datumCopy(limits, false, -1);
			MemoryContextSwitchTo(spi);
		}
		SPI_finish();
		if (i == CACHED_TIERS)	/* more tiers than expected: no caching */
		{
			if (isnull)
				PG_RETURN_NULL();
			PG_RETURN_DATUM(limits);
		}
		cache->tier[i] = tier;
		cache->limits[i] = isnull ? (Datum) 0 : limits;
		cache->count++;
	}
	if (cache->limits[i] == (Datum) 0)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(datumCopy(cache->limits[i], false, -1));
}

/* custom_s3 needs a tier whose allow_custom_s3 is true */
static void
check_custom_s3_allowed(FunctionCallInfo fcinfo, Datum tier)
{
	static CopassPlan allow_plan = {
		"SELECT t.allow_custom_s3 FROM copass_data.tiers t WHERE t.tier OPERATOR(pg_catalog.=) $1",
		1, {"copass.tier"}
	};
	bool		isnull = true;
	Datum		allowed = (Datum) 0;

	if (copass_execute(&allow_plan, &tier, NULL, true, SPI_OK_SELECT) == 1)
		allowed = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull || !DatumGetBool(allowed))
		ereport(ERROR,
				(errcode(ERRCODE_COPASS_QUOTA),
				 errmsg("this tier does not allow custom_s3 storage"),
				 errhint("Use storage_provider_type platform_s3, or a tier that allows custom_s3.")));
}

/*
 * The row sandbox_create returns, from its own parameters and the counted
 * usage row u (the tier's limits): the INSERT itself returns nothing, which
 * spares the row-level security check that RETURNING would add.
 */
#define CREATED_ROW \
	" $2, $1, $3, $4, $5, 'active'::copass.sandbox_status, $6, $7," \
	" (SELECT " LIMITS_OF_TIER_ROW " FROM copass_data.tiers t WHERE t.tier OPERATOR(pg_catalog.=) u.tier)," \
	" $8, 'owner'::copass.access_level, false, $9, $9"

/* True when usage row u has room for one more sandbox of its tier */
#define USAGE_HAS_ROOM \
	" (SELECT t.max_sandboxes IS NULL OR u.sandboxes OPERATOR(pg_catalog.<) t.max_sandboxes" \
	"    FROM copass_data.tiers t WHERE t.tier OPERATOR(pg_catalog.=) u.tier)"

/* The parameters of sandbox_create's plans */
#define CREATE_NARGS 9
#define CREATE_ARGTYPES \
	{"pg_catalog.uuid", "pg_catalog.uuid", "pg_catalog.uuid", "pg_catalog.text", \
	 "copass.tier", "copass.storage_provider", "pg_catalog.jsonb", "pg_catalog.jsonb", \
	 "pg_catalog.timestamptz"}

/*
 * copass.sandbox_create(name, owner_id, tier, metadata, storage_provider_type,
 * storage_config) -> copass.sandbox
 *
 * The INSERT does nothing on a duplicate name (the 23505 below is copass's
 * own: PostgreSQL's message would quote the name); then the sandbox is
 * counted against the account's max_sandboxes by an UPDATE of the account's
 * usage row, which takes the row's lock and re-checks the limit on the
 * newest row version, so concurrent creates cannot overshoot the quota.  An
 * account's first sandbox of a tier inserts that row instead (ON CONFLICT
 * covers two first creates at once).  Any error rolls back the whole call.
 */
Datum
copass_sandbox_create(PG_FUNCTION_ARGS)
{
	static CopassPlan insert_plan = {
		"INSERT INTO copass_data.sandbox (account_id, sandbox_id, owner_id, name, tier, status,"
		"   storage_provider_type, storage_config, metadata, created_at, updated_at)"
		" VALUES ($1, $2, $3, $4, $5, 'active'::copass.sandbox_status, $6, $7, $8, $9, $9)"
		" ON CONFLICT (account_id, owner_id, name) DO NOTHING",
		CREATE_NARGS, CREATE_ARGTYPES
	};
	static CopassPlan count_plan = {
		"UPDATE copass_data.account_usage u SET sandboxes = u.sandboxes OPERATOR(pg_catalog.+) 1"
		" WHERE u.account_id OPERATOR(pg_catalog.=) $1 AND u.tier OPERATOR(pg_catalog.=) $5"
		"   AND" USAGE_HAS_ROOM
		" RETURNING" CREATED_ROW,
		CREATE_NARGS, CREATE_ARGTYPES
	};
	static CopassPlan first_count_plan = {
		"INSERT INTO copass_data.account_usage AS u (account_id, tier, sandboxes)"
		" SELECT $1, t.tier, 1 FROM copass_data.tiers t"
		"  WHERE t.tier OPERATOR(pg_catalog.=) $5"
		"    AND (t.max_sandboxes IS NULL OR t.max_sandboxes OPERATOR(pg_catalog.>=) 1)"
		" ON CONFLICT (account_id, tier) DO UPDATE"
		"   SET sandboxes = u.sandboxes OPERATOR(pg_catalog.+) 1 WHERE" USAGE_HAS_ROOM
		" RETURNING" CREATED_ROW,
		CREATE_NARGS, CREATE_ARGTYPES
	};
	pg_uuid_t	account;
	pg_uuid_t  *sandbox_id = palloc(sizeof(pg_uuid_t));
	Datum		values[CREATE_NARGS];
	char		nulls[CREATE_NARGS] = "         ";
	bool		custom_s3;
	Datum		result;

	PreventCommandIfReadOnly("copass.sandbox_create()");
	copass_require_account(&account);
	copass_check_not_null(fcinfo, 0, "name");
	copass_check_not_null(fcinfo, 1, "owner_id");
	copass_check_not_null(fcinfo, 2, "tier");
	copass_check_not_null(fcinfo, 3, "metadata");
	copass_check_not_null(fcinfo, 4, "storage_provider_type");

	values[3] = PointerGetDatum(copass_check_name(PG_GETARG_TEXT_PP(0), "name"));
	values[7] = PointerGetDatum(PG_GETARG_JSONB_P(3));
	copass_check_metadata(DatumGetJsonbP(values[7]));
	values[6] = PG_ARGISNULL(5) ? (Datum) 0 : PointerGetDatum(PG_GETARG_JSONB_P(5));
	nulls[6] = PG_ARGISNULL(5) ? 'n' : ' ';
	custom_s3 = copass_enum_is(PG_GETARG_DATUM(4), "custom_s3");
	copass_check_storage(custom_s3, PG_ARGISNULL(5) ? NULL : DatumGetJsonbP(values[6]));

	copass_uuid7(sandbox_id);
	values[0] = UUIDPGetDatum(&account);
	values[1] = UUIDPGetDatum(sandbox_id);
	values[2] = PG_GETARG_DATUM(1);
	values[4] = PG_GETARG_DATUM(2);
	values[5] = PG_GETARG_DATUM(4);
	values[8] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());

	copass_spi_connect();
	if (custom_s3)
		check_custom_s3_allowed(fcinfo, values[4]);
	if (copass_execute(&insert_plan, values, nulls, false, SPI_OK_INSERT) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("a sandbox with this name already exists for this owner"),
				 errhint("Names are unique per owner_id within an account; pick another name.")));
	if (copass_execute(&count_plan, values, nulls, false, SPI_OK_UPDATE_RETURNING) == 0 &&
		copass_execute(&first_count_plan, values, nulls, false, SPI_OK_INSERT_RETURNING) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_COPASS_QUOTA),
				 errmsg("the account has reached the sandbox limit of this tier"),
				 errhint("Delete sandboxes or use a higher tier; the limits are in copass.tier_limits.")));
	result = copass_result_row(fcinfo, SPI_tuptable->vals[0], SPI_tuptable->tupdesc);
	SPI_finish();

	/* PostgREST answers 201 Created */
	(void) set_config_option("response.status", "201", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_LOCAL, true, 0, false);
	PG_RETURN_DATUM(result);
}

/* Keyset pagination: ids after $2, from the start when $2 is NULL */
#define AFTER_ID "COALESCE($2, '00000000-0000-0000-0000-000000000000'::pg_catalog.uuid)"

/*
 * One page of an owner's sandboxes the caller owns: $4 the caller's account,
 * $1 owner_id, $2 after_id, $3 page_size, read in index order
 * (sandbox_owner_idx) up to the page size.  `access` and `external` give the
 * last two columns.
 */
#define OWNED_PAGE(access, external) \
	"SELECT s.sandbox_id, s.account_id, s.owner_id, s.name, s.tier, s.status," \
	"  s.storage_provider_type, s.storage_config, s.metadata, " access " AS access," \
	"  " external " AS is_external, s.created_at, s.updated_at" \
	" FROM copass_data.sandbox s" \
	" WHERE s.account_id OPERATOR(pg_catalog.=) $4 AND s.owner_id OPERATOR(pg_catalog.=) $1" \
	"   AND s.sandbox_id OPERATOR(pg_catalog.>) " AFTER_ID \
	" ORDER BY s.sandbox_id LIMIT $3"

/* The same page of sandboxes other accounts share with the caller, in grant index order */
#define SHARED_PAGE \
	"SELECT s.sandbox_id, s.account_id, s.owner_id, s.name, s.tier, s.status," \
	"  s.storage_provider_type, s.storage_config, s.metadata, g.role, true," \
	"  s.created_at, s.updated_at" \
	" FROM copass_data.grants_to_me g" \
	" JOIN copass_data.sandbox s ON s.account_id OPERATOR(pg_catalog.=) g.account_id" \
	"                          AND s.sandbox_id OPERATOR(pg_catalog.=) g.sandbox_id" \
	" WHERE s.owner_id OPERATOR(pg_catalog.=) $1 AND g.sandbox_id OPERATOR(pg_catalog.>) " AFTER_ID \
	" ORDER BY g.sandbox_id LIMIT $3"

/* A page p as copass.sandbox rows, each with its tier's limits */
#define PAGE_ROWS(page) \
	"SELECT p.sandbox_id, p.account_id, p.owner_id, p.name, p.tier, p.status," \
	"  p.storage_provider_type, p.storage_config," \
	"  copass.tier_limits(p.tier)," \
	"  p.metadata, p.access, p.is_external, p.created_at, p.updated_at" \
	" FROM (" page ") p ORDER BY p.sandbox_id"

/*
 * copass.sandbox_list_by_owner(owner_id, include_connections, page_size,
 * after_id) -> SETOF copass.sandbox, ordered by sandbox_id, one page.  Each
 * source (owned, shared) is read in sandbox_id order and stops at the page
 * size, so a page costs the same however many sandboxes the owner has.
 * Without connections it is the legacy owner-only listing, with access NULL.
 */
Datum
copass_sandbox_list_by_owner(PG_FUNCTION_ARGS)
{
	static CopassPlan all_plan = {
		PAGE_ROWS("(" OWNED_PAGE("'owner'::copass.access_level", "false") ")"
				  " UNION ALL (" SHARED_PAGE ") ORDER BY 1 LIMIT $3"),
		4, {"pg_catalog.uuid", "pg_catalog.uuid", "pg_catalog.int4", "pg_catalog.uuid"}
	};
	static CopassPlan owned_plan = {
		PAGE_ROWS(OWNED_PAGE("NULL::copass.access_level", "false")),
		4, {"pg_catalog.uuid", "pg_catalog.uuid", "pg_catalog.int4", "pg_catalog.uuid"}
	};
	pg_uuid_t	account;
	Datum		values[4];
	char		nulls[4] = "    ";

	copass_require_account(&account);
	copass_check_not_null(fcinfo, 0, "owner_id");
	copass_check_not_null(fcinfo, 1, "include_connections");
	copass_check_not_null(fcinfo, 2, "page_size");
	copass_check_page_size(PG_GETARG_INT32(2));

	values[0] = PG_GETARG_DATUM(0);
	values[1] = PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3);
	nulls[1] = PG_ARGISNULL(3) ? 'n' : ' ';
	values[2] = PG_GETARG_DATUM(2);
	values[3] = UUIDPGetDatum(&account);

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	copass_spi_connect();
	copass_execute(PG_GETARG_BOOL(1) ? &all_plan : &owned_plan, values, nulls, true, SPI_OK_SELECT);
	copass_return_rows(fcinfo);
	SPI_finish();
	return (Datum) 0;
}

/* copass.sandbox_get(sandbox_id) -> copass.sandbox; PT404 when not visible */
Datum
copass_sandbox_get(PG_FUNCTION_ARGS)
{
	pg_uuid_t	account;
	CopassVisible sandbox;
	Datum		result;

	copass_require_account(&account);
	copass_check_not_null(fcinfo, 0, "sandbox_id");

	copass_spi_connect();
	sandbox = copass_visible_sandbox(PG_GETARG_DATUM(0), true);
	result = copass_result_row(fcinfo, sandbox.row, sandbox.desc);
	SPI_finish();
	PG_RETURN_DATUM(result);
}

/*
 * Apply one UPDATE to a sandbox the caller may write, then read it back with
 * a fresh snapshot.  The UPDATE waits for any revoke or delete holding the
 * row; reading back afterwards, and checking the access level again, means a
 * grant revoked while this write waited cannot let the write through.
 */
static Datum
update_sandbox(FunctionCallInfo fcinfo, CopassAccess needed, CopassPlan *update_plan,
			   Datum *values, const char *nulls)
{
	CopassVisible sandbox;
	Datum		result;

	copass_spi_connect();
	sandbox = copass_visible_sandbox(values[1], false);
	copass_require_access(&sandbox, needed);

	values[0] = sandbox.account_id;
	if (copass_execute(update_plan, values, nulls, false, SPI_OK_UPDATE) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_COPASS_NOT_FOUND),
				 errmsg("sandbox not found")));

	sandbox = copass_visible_sandbox(values[1], false);
	copass_require_access(&sandbox, needed);
	result = copass_result_row(fcinfo, sandbox.row, sandbox.desc);
	SPI_finish();
	return result;
}

/* copass.sandbox_update(sandbox_id, name, metadata) -> copass.sandbox; editors and the owner */
Datum
copass_sandbox_update(PG_FUNCTION_ARGS)
{
	static CopassPlan update_plan = {
		"UPDATE copass_data.sandbox s"
		"   SET name = COALESCE($3, s.name), metadata = COALESCE($4, s.metadata),"
		"       updated_at = pg_catalog.now()"
		" WHERE s.account_id OPERATOR(pg_catalog.=) $1 AND s.sandbox_id OPERATOR(pg_catalog.=) $2",
		4, {"pg_catalog.uuid", "pg_catalog.uuid", "pg_catalog.text", "pg_catalog.jsonb"}
	};
	pg_uuid_t	account;
	Datum		values[4] = {0};
	char		nulls[4] = "    ";

	PreventCommandIfReadOnly("copass.sandbox_update()");
	copass_require_account(&account);
	copass_check_not_null(fcinfo, 0, "sandbox_id");
	values[1] = PG_GETARG_DATUM(0);
	if (PG_ARGISNULL(1))
		nulls[2] = 'n';
	else
		values[2] = PointerGetDatum(copass_check_name(PG_GETARG_TEXT_PP(1), "name"));
	if (PG_ARGISNULL(2))
		nulls[3] = 'n';
	else
	{
		values[3] = PointerGetDatum(PG_GETARG_JSONB_P(2));
		copass_check_metadata(DatumGetJsonbP(values[3]));
	}

	PG_RETURN_DATUM(update_sandbox(fcinfo, COPASS_EDITOR, &update_plan, values, nulls));
}

/* copass.sandbox_set_status(sandbox_id, status) -> copass.sandbox; owner only */
Datum
copass_sandbox_set_status(PG_FUNCTION_ARGS)
{
	static CopassPlan status_plan = {
		"UPDATE copass_data.sandbox s SET status = $3, updated_at = pg_catalog.now()"
		" WHERE s.account_id OPERATOR(pg_catalog.=) $1 AND s.sandbox_id OPERATOR(pg_catalog.=) $2",
		3, {"pg_catalog.uuid", "pg_catalog.uuid", "copass.sandbox_status"}
	};
	pg_uuid_t	account;
	Datum		values[3] = {0};

	PreventCommandIfReadOnly("copass.sandbox_set_status()");
	copass_require_account(&account);
	copass_check_not_null(fcinfo, 0, "sandbox_id");
	copass_check_not_null(fcinfo, 1, "status");
	values[1] = PG_GETARG_DATUM(0);
	values[2] = PG_GETARG_DATUM(1);

	PG_RETURN_DATUM(update_sandbox(fcinfo, COPASS_OWNER, &status_plan, values, NULL));
}

/*
 * copass.sandbox_delete(sandbox_id) -> copass.sandbox; owner only.  The
 * sandbox's connections go with it (ON DELETE CASCADE) and its account's
 * usage count drops by one in the same statement.
 */
Datum
copass_sandbox_delete(PG_FUNCTION_ARGS)
{
	static CopassPlan delete_plan = {
		"WITH gone AS ("
		" DELETE FROM copass_data.sandbox s"
		"  WHERE s.account_id OPERATOR(pg_catalog.=) $1 AND s.sandbox_id OPERATOR(pg_catalog.=) $2"
		" RETURNING s.account_id, s.tier)"
		" UPDATE copass_data.account_usage u SET sandboxes = u.sandboxes OPERATOR(pg_catalog.-) 1"
		"   FROM gone g"
		"  WHERE u.account_id OPERATOR(pg_catalog.=) g.account_id AND u.tier OPERATOR(pg_catalog.=) g.tier",
		2, {"pg_catalog.uuid", "pg_catalog.uuid"}
	};
	pg_uuid_t	account;
	CopassVisible sandbox;
	Datum		values[2];
	Datum		result;

	PreventCommandIfReadOnly("copass.sandbox_delete()");
	copass_require_account(&account);
	copass_check_not_null(fcinfo, 0, "sandbox_id");

	copass_spi_connect();
	sandbox = copass_visible_sandbox(PG_GETARG_DATUM(0), false);
	copass_require_access(&sandbox, COPASS_OWNER);
	values[0] = sandbox.account_id;
	values[1] = PG_GETARG_DATUM(0);
	if (copass_execute(&delete_plan, values, NULL, false, SPI_OK_UPDATE) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_COPASS_NOT_FOUND),
				 errmsg("sandbox not found")));
	result = copass_result_row(fcinfo, sandbox.row, sandbox.desc);
	SPI_finish();
	PG_RETURN_DATUM(result);
}
