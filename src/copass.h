/*
 * copass.h: declarations shared by the copass C files.
 */
#ifndef COPASS_H
#define COPASS_H

#include "postgres.h"

#include "executor/spi.h"
#include "access/htup_details.h"
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
extern bool copass_current_account(pg_uuid_t *out);
extern void copass_require_account(pg_uuid_t *out);

/* uuid7.c: ids */
extern void copass_uuid7(pg_uuid_t *out);

/* input.c: argument checks */
extern text *copass_check_name(text *name, const char *field);
extern void copass_check_metadata(Jsonb *metadata);
extern void copass_check_storage(bool custom_s3, Jsonb *storage_config);
extern void copass_check_page_size(int32 page_size);
extern bool copass_enum_is(Datum value, const char *label);
extern void copass_check_not_null(FunctionCallInfo fcinfo, int argno, const char *argname);

/* plan.c: prepared SPI plans kept for the life of the backend */
typedef struct CopassPlan
{
	const char *sql;			/* query text with $n parameters */
	int			nargs;
	const char *argtypes[FUNC_MAX_ARGS];	/* schema-qualified type names */
	Oid			data_namespace; /* copass_data when the plan was prepared */
	SPIPlanPtr	plan;
} CopassPlan;

extern void copass_spi_connect(void);
extern uint64 copass_execute(CopassPlan *cp, Datum *values, const char *nulls,
							 bool read_only, int expected);
extern Datum copass_result_row(FunctionCallInfo fcinfo, HeapTuple row, TupleDesc rowdesc);
extern void copass_return_rows(FunctionCallInfo fcinfo);

/* sandbox.c: the sandbox the caller can see, with its access level */
typedef enum CopassAccess
{
	COPASS_VIEWER,
	COPASS_EDITOR,
	COPASS_OWNER
} CopassAccess;

/* A visible sandbox: its row (copass.sandbox columns first) and access */
typedef struct CopassVisible
{
	HeapTuple	row;
	TupleDesc	desc;
	Datum		account_id;		/* the sandbox's account */
	CopassAccess access;
} CopassVisible;

extern CopassVisible copass_visible_sandbox(Datum sandbox_id, bool read_only);
extern void copass_require_access(const CopassVisible *sandbox, CopassAccess needed);

#endif							/* COPASS_H */
