/*
 * plan.c: SPI plans prepared once and kept for the life of the backend.
 *
 * A plan belongs to one SQL-callable function and is prepared again when that
 * function's OID changes (the extension was dropped and created again in this
 * backend), because the types and tables it was prepared against are gone.
 * Parameter types are looked up by schema-qualified name and every query
 * text qualifies its tables, functions and operators, so the caller's
 * search_path cannot change what a plan means.
 */
#include "copass.h"

#include "parser/parse_type.h"

SPIPlanPtr
copass_plan(CopassPlan *cp, FunctionCallInfo fcinfo)
{
	Oid			argtypes[FUNC_MAX_ARGS];
	SPIPlanPtr	plan;

	if (cp->plan != NULL && cp->fn_oid == fcinfo->flinfo->fn_oid)
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
	plan = SPI_prepare(cp->sql, cp->nargs, argtypes);
	if (plan == NULL)
		elog(ERROR, "copass: could not prepare query: %s", SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "copass: could not keep query plan");
	cp->plan = plan;
	cp->fn_oid = fcinfo->flinfo->fn_oid;
	return plan;
}
