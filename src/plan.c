/*
 * plan.c: SPI plans prepared once and kept for the life of the backend, and
 * the small wrappers every API function uses to run them.
 *
 * A plan is prepared again when schema copass_data has a new OID (the
 * extension was dropped and created again in this backend), because the types
 * and tables it was prepared against are gone; other changes to them are
 * PostgreSQL's plan cache's business.
 * Parameter types are looked up by schema-qualified name and every query
 * text qualifies its tables, functions and operators, so the caller's
 * search_path cannot change what a plan means.
 */
#include "copass.h"

#include "catalog/namespace.h"
#include "funcapi.h"
#include "parser/parse_type.h"
#include "utils/inval.h"
#include "utils/syscache.h"

/* OID of schema copass_data, looked up again only after a schema changes */
static Oid	data_namespace = InvalidOid;

static void
forget_data_namespace(Datum arg, int cacheid, uint32 hashvalue)
{
	data_namespace = InvalidOid;
}

static SPIPlanPtr
copass_plan(CopassPlan *cp)
{
	static bool callback_registered = false;
	Oid			argtypes[FUNC_MAX_ARGS];
	SPIPlanPtr	plan;

	if (!callback_registered)
	{
		CacheRegisterSyscacheCallback(NAMESPACEOID, forget_data_namespace, (Datum) 0);
		callback_registered = true;
	}
	if (!OidIsValid(data_namespace))
		data_namespace = get_namespace_oid("copass_data", false);
	if (cp->plan != NULL && cp->data_namespace == data_namespace)
		return cp->plan;

	if (cp->plan != NULL)
	{
		SPI_freeplan(cp->plan);
		cp->plan = NULL;
	}
	for (int i = 0; i < cp->nargs; i++)
	{
		int32		typmod;

		parseTypeString(cp->argtypes[i], &argtypes[i], &typmod, false);
	}
	/*
	 * Always the generic plan: the plans are small and their best shape does
	 * not depend on the values, so planning on every call (a custom plan)
	 * would only cost time.
	 */
	plan = SPI_prepare_cursor(cp->sql, cp->nargs, argtypes, CURSOR_OPT_GENERIC_PLAN);
	if (plan == NULL)
		elog(ERROR, "copass: could not prepare query: %s", SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "copass: could not keep query plan");
	cp->plan = plan;
	cp->data_namespace = data_namespace;
	return plan;
}

void
copass_spi_connect(void)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "copass: could not connect to SPI");
}

/*
 * Run a kept plan; read_only for STABLE functions (they see the calling
 * query's snapshot), otherwise each call takes a fresh snapshot, so it sees
 * what other transactions committed while this one waited for a lock.
 */
uint64
copass_execute(CopassPlan *cp, Datum *values, const char *nulls, bool read_only, int expected)
{
	int			rc = SPI_execute_plan(copass_plan(cp), values, nulls, read_only, 0);

	if (rc != expected)
		elog(ERROR, "copass: query failed: %s", SPI_result_code_string(rc));
	return SPI_processed;
}

/*
 * The calling function's composite result built from the first columns of an
 * SPI row (extra trailing columns are dropped), copied out of SPI memory.
 */
Datum
copass_result_row(FunctionCallInfo fcinfo, HeapTuple row, TupleDesc rowdesc)
{
	TupleDesc	desc;
	Datum	   *values = palloc(rowdesc->natts * sizeof(Datum));
	bool	   *nulls = palloc(rowdesc->natts * sizeof(bool));

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "copass: function must return a composite type");
	heap_deform_tuple(row, rowdesc, values, nulls);
	return PointerGetDatum(SPI_returntuple(heap_form_tuple(desc, values, nulls), desc));
}

/* Put every row of the last SPI result into a set-returning function's result */
void
copass_return_rows(FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	for (uint64 i = 0; i < SPI_processed; i++)
		tuplestore_puttuple(rsinfo->setResult, SPI_tuptable->vals[i]);
}
