/*
 * copass.h: declarations shared by the copass C files.
 */
#ifndef COPASS_H
#define COPASS_H

#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"

/* SQLSTATEs PostgREST answers as HTTP 404 and 402 (SPEC.md, "Errors") */
#define ERRCODE_COPASS_NOT_FOUND MAKE_SQLSTATE('P', 'T', '4', '0', '4')
#define ERRCODE_COPASS_QUOTA MAKE_SQLSTATE('P', 'T', '4', '0', '2')

/* Names of the settings this extension defines or reads */
#define COPASS_ACCOUNT_ID_SETTING "copass.account_id"
#define JWT_CLAIMS_SETTING "request.jwt.claims"

/* copass.c: settings */
extern char *copass_account_claim;
extern int	copass_max_metadata_bytes;
extern char *copass_account_id_setting;

/* account.c: who is calling */
extern bool copass_parse_uuid(const char *str, pg_uuid_t *out);
extern bool copass_current_account(pg_uuid_t *out);
extern void copass_require_account(pg_uuid_t *out);

/* uuid7.c: ids */
extern void copass_uuid7(pg_uuid_t *out);

/* input.c: argument checks */
extern text *copass_check_name(text *name);
extern void copass_check_metadata(Jsonb *metadata);
extern void copass_check_storage(bool custom_s3, Jsonb *storage_config);
extern void copass_check_page_size(int32 page_size);
extern void copass_check_not_null(FunctionCallInfo fcinfo, int argno, const char *argname);

/* plan.c: prepared SPI plans kept for the life of the backend */
typedef struct CopassPlan
{
	const char *sql;			/* query text with $n parameters */
	int			nargs;
	const char *argtypes[FUNC_MAX_ARGS];	/* schema-qualified type names */
	Oid			fn_oid;			/* function the plan was prepared for */
	SPIPlanPtr	plan;
} CopassPlan;

extern SPIPlanPtr copass_plan(CopassPlan *cp, FunctionCallInfo fcinfo);

#endif							/* COPASS_H */
