/*
 * sandbox.c: the SQL-callable sandbox API.
 *
 * Every function runs with the caller's rights: it finds the calling account,
 * checks its arguments, then reads and writes through kept SPI plans whose
 * rows row-level security has already filtered.  Reads go through the view
 * copass.sandboxes, the one definition of what a returned sandbox looks like.
 */
#include "copass.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_enum.h"
#include "funcapi.h"
#include "utils/guc.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(copass_tier_limits);
PG_FUNCTION_INFO_V1(copass_sandbox_create);
PG_FUNCTION_INFO_V1(copass_sandbox_list_by_owner);
PG_FUNCTION_INFO_V1(copass_sandbox_get);

#define NUM_SANDBOX_COLUMNS 14

/* The columns of copass.sandbox read from the view, with `access` given */
#define SANDBOX_SELECT(access) \
	"SELECT v.sandbox_id, v.account_id, v.owner_id, v.name, v.tier, v.status," \
	" v.storage_provider_type, v.storage_config, v.limits, v.metadata, " access "," \
	" v.is_external, v.created_at, v.updated_at FROM copass.sandboxes v "

#define LIMITS_SELECT \
	"SELECT t.max_storage_bytes, t.max_data_sources, t.max_projects, t.max_connections," \
	" t.max_sandboxes, t.allow_custom_s3 FROM copass_data.tiers t" \
	" WHERE t.tier OPERATOR(pg_catalog.=) $1"

static TupleDesc
result_desc(FunctionCallInfo fcinfo)
{
	TupleDesc	desc;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "copass: function must return a composite type");
	return desc;
}

static void
spi_connect(void)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "copass: could not connect to SPI");
}

static void
spi_execute(SPIPlanPtr plan, Datum *values, const char *nulls, bool read_only,
			long count, int expected)
{
	int			rc = SPI_execute_plan(plan, values, nulls, read_only, count);

	if (rc != expected)
		elog(ERROR, "copass: query failed: %s", SPI_result_code_string(rc));
}

/* Return the first row of the last SPI result as the function's composite result */
static Datum
return_first_row(FunctionCallInfo fcinfo)
{
	Datum		result = PointerGetDatum(SPI_returntuple(SPI_tuptable->vals[0], result_desc(fcinfo)));

	SPI_finish();
	return result;
}

static void
sandbox_not_found(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_COPASS_NOT_FOUND),
			 errmsg("sandbox not found")));
}

/* copass.tier_limits(tier) -> copass.limits */
Datum
copass_tier_limits(PG_FUNCTION_ARGS)
{
	static CopassPlan limits_plan = {LIMITS_SELECT, 1, {"copass.tier"}};
	Datum		tier;

	copass_check_not_null(fcinfo, 0, "tier");
	tier = PG_GETARG_DATUM(0);

	spi_connect();
	spi_execute(copass_plan(&limits_plan, fcinfo), &tier, NULL, true, 1, SPI_OK_SELECT);
	if (SPI_processed == 0)
	{
		SPI_finish();
		PG_RETURN_NULL();
	}
	return return_first_row(fcinfo);
}

/* Is this copass.storage_provider value custom_s3? */
static bool
is_custom_s3(Datum provider)
{
	HeapTuple	tup = SearchSysCache1(ENUMOID, provider);
	bool		custom;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "copass: unknown storage provider %u", DatumGetObjectId(provider));
	custom = strcmp(NameStr(((Form_pg_enum) GETSTRUCT(tup))->enumlabel), "custom_s3") == 0;
	ReleaseSysCache(tup);
	return custom;
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

	spi_execute(copass_plan(&allow_plan, fcinfo), &tier, NULL, true, 1, SPI_OK_SELECT);
	if (SPI_processed == 1)
		allowed = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull || !DatumGetBool(allowed))
		ereport(ERROR,
				(errcode(ERRCODE_COPASS_QUOTA),
				 errmsg("this tier does not allow custom_s3 storage"),
				 errhint("Use storage_provider_type platform_s3, or a tier that allows custom_s3.")));
}

/*
 * copass.sandbox_create(name, owner_id, tier, metadata, storage_provider_type,
 * storage_config) -> copass.sandbox
 *
 * One statement inserts the sandbox (nothing on a duplicate name) and counts
 * it against the account's max_sandboxes under the lock of the account's
 * usage row, so concurrent creates can neither duplicate a name nor overshoot
 * the quota; an error afterwards rolls both back.
 */
Datum
copass_sandbox_create(PG_FUNCTION_ARGS)
{
	static CopassPlan create_plan = {
		"WITH created AS ("
		" INSERT INTO copass_data.sandbox AS s (account_id, sandbox_id, owner_id, name, tier,"
		"   storage_provider_type, storage_config, metadata, created_at, updated_at)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)"
		" ON CONFLICT (account_id, owner_id, name) DO NOTHING"
		" RETURNING s.*"
		"), counted AS ("
		" INSERT INTO copass_data.account_usage AS u (account_id, tier, sandboxes)"
		" SELECT c.account_id, c.tier, 1 FROM created c"
		"   JOIN copass_data.tiers t ON t.tier OPERATOR(pg_catalog.=) c.tier"
		"  WHERE t.max_sandboxes IS NULL OR t.max_sandboxes OPERATOR(pg_catalog.>=) 1"
		" ON CONFLICT (account_id, tier) DO UPDATE"
		"   SET sandboxes = u.sandboxes OPERATOR(pg_catalog.+) 1"
		"   WHERE (SELECT t.max_sandboxes IS NULL OR u.sandboxes OPERATOR(pg_catalog.<) t.max_sandboxes"
		"            FROM copass_data.tiers t WHERE t.tier OPERATOR(pg_catalog.=) u.tier)"
		" RETURNING 1"
		")"
		" SELECT c.sandbox_id, c.account_id, c.owner_id, c.name, c.tier, c.status,"
		"   c.storage_provider_type, c.storage_config,"
		"   ROW(t.max_storage_bytes, t.max_data_sources, t.max_projects, t.max_connections,"
		"       t.max_sandboxes, t.allow_custom_s3)::copass.limits,"
		"   c.metadata, 'owner'::copass.access_level, false, c.created_at, c.updated_at,"
		"   EXISTS (SELECT FROM counted)"
		" FROM created c LEFT JOIN copass_data.tiers t ON t.tier OPERATOR(pg_catalog.=) c.tier",
		9,
		{"pg_catalog.uuid", "pg_catalog.uuid", "pg_catalog.uuid", "pg_catalog.text",
			"copass.tier", "copass.storage_provider", "pg_catalog.jsonb", "pg_catalog.jsonb",
		"pg_catalog.timestamptz"}
	};
	pg_uuid_t	account;
	pg_uuid_t  *sandbox_id = palloc(sizeof(pg_uuid_t));
	Datum		values[9];
	char		nulls[9] = "         ";
	bool		counted_null;
	bool		custom_s3;
	Datum		result;

	copass_require_account(&account);
	copass_check_not_null(fcinfo, 0, "name");
	copass_check_not_null(fcinfo, 1, "owner_id");
	copass_check_not_null(fcinfo, 2, "tier");
	copass_check_not_null(fcinfo, 3, "metadata");
	copass_check_not_null(fcinfo, 4, "storage_provider_type");

	values[3] = PointerGetDatum(copass_check_name(PG_GETARG_TEXT_PP(0)));
	values[7] = PointerGetDatum(PG_GETARG_JSONB_P(3));
	copass_check_metadata(DatumGetJsonbP(values[7]));
	values[6] = PG_ARGISNULL(5) ? (Datum) 0 : PointerGetDatum(PG_GETARG_JSONB_P(5));
	nulls[6] = PG_ARGISNULL(5) ? 'n' : ' ';
	custom_s3 = is_custom_s3(PG_GETARG_DATUM(4));
	copass_check_storage(custom_s3,
						 PG_ARGISNULL(5) ? NULL : DatumGetJsonbP(values[6]));

	copass_uuid7(sandbox_id);
	values[0] = UUIDPGetDatum(&account);
	values[1] = UUIDPGetDatum(sandbox_id);
	values[2] = PG_GETARG_DATUM(1);
	values[4] = PG_GETARG_DATUM(2);
	values[5] = PG_GETARG_DATUM(4);
	values[8] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());

	spi_connect();
	if (custom_s3)
		check_custom_s3_allowed(fcinfo, values[4]);
	spi_execute(copass_plan(&create_plan, fcinfo), values, nulls, false, 0, SPI_OK_SELECT);

	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("a sandbox with this name already exists for this owner"),
				 errhint("Names are unique per owner_id within an account; pick another name.")));
	if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
									NUM_SANDBOX_COLUMNS + 1, &counted_null)))
		ereport(ERROR,
				(errcode(ERRCODE_COPASS_QUOTA),
				 errmsg("the account has reached the sandbox limit of this tier"),
				 errhint("Delete sandboxes or use a higher tier; the limits are in copass.tier_limits.")));

	/* drop the trailing quota column: the rest is a copass.sandbox */
	{
		TupleDesc	desc = result_desc(fcinfo);
		Datum		row[NUM_SANDBOX_COLUMNS + 1];
		bool		rownulls[NUM_SANDBOX_COLUMNS + 1];

		heap_deform_tuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, row, rownulls);
		result = PointerGetDatum(SPI_returntuple(heap_form_tuple(desc, row, rownulls), desc));
	}
	SPI_finish();

	/* PostgREST answers 201 Created */
	(void) set_config_option("response.status", "201", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_LOCAL, true, 0, false);
	PG_RETURN_DATUM(result);
}

/*
 * copass.sandbox_list_by_owner(owner_id, include_connections, page_size,
 * after_id) -> SETOF copass.sandbox, ordered by sandbox_id, one page.
 */
Datum
copass_sandbox_list_by_owner(PG_FUNCTION_ARGS)
{
#define LIST_PAGE \
	"v.owner_id OPERATOR(pg_catalog.=) $1" \
	" AND v.sandbox_id OPERATOR(pg_catalog.>) COALESCE($2, '00000000-0000-0000-0000-000000000000'::pg_catalog.uuid)" \
	" ORDER BY v.sandbox_id LIMIT $3"
	static CopassPlan all_plan = {
		SANDBOX_SELECT("v.access") "WHERE " LIST_PAGE,
		3, {"pg_catalog.uuid", "pg_catalog.uuid", "pg_catalog.int4"}
	};
	static CopassPlan owned_plan = {
		SANDBOX_SELECT("NULL::copass.access_level") "WHERE NOT v.is_external AND " LIST_PAGE,
		3, {"pg_catalog.uuid", "pg_catalog.uuid", "pg_catalog.int4"}
	};
	pg_uuid_t	account;
	Datum		values[3];
	char		nulls[3] = "   ";
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	copass_require_account(&account);
	copass_check_not_null(fcinfo, 0, "owner_id");
	copass_check_not_null(fcinfo, 1, "include_connections");
	copass_check_not_null(fcinfo, 2, "page_size");
	copass_check_page_size(PG_GETARG_INT32(2));

	values[0] = PG_GETARG_DATUM(0);
	values[1] = PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3);
	nulls[1] = PG_ARGISNULL(3) ? 'n' : ' ';
	values[2] = PG_GETARG_DATUM(2);

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	spi_connect();
	spi_execute(copass_plan(PG_GETARG_BOOL(1) ? &all_plan : &owned_plan, fcinfo),
				values, nulls, true, 0, SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
		tuplestore_puttuple(rsinfo->setResult, SPI_tuptable->vals[i]);
	SPI_finish();
	return (Datum) 0;
#undef LIST_PAGE
}

/* copass.sandbox_get(sandbox_id) -> copass.sandbox; PT404 when not visible */
Datum
copass_sandbox_get(PG_FUNCTION_ARGS)
{
	static CopassPlan get_plan = {
		SANDBOX_SELECT("v.access") "WHERE v.sandbox_id OPERATOR(pg_catalog.=) $1",
		1, {"pg_catalog.uuid"}
	};
	pg_uuid_t	account;
	Datum		id;

	copass_require_account(&account);
	copass_check_not_null(fcinfo, 0, "sandbox_id");
	id = PG_GETARG_DATUM(0);

	spi_connect();
	spi_execute(copass_plan(&get_plan, fcinfo), &id, NULL, true, 2, SPI_OK_SELECT);
	if (SPI_processed == 0)
		sandbox_not_found();
	return return_first_row(fcinfo);
}
