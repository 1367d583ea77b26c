/*
 * copass.c: module entry point and the settings copass defines.
 *
 * copass.account_id     the calling account, set by a trusted backend
 * copass.account_claim  which claim of request.jwt.claims names the account
 * copass.max_metadata_bytes  largest metadata document, in bytes as text
 */
#include "copass.h"

#include "utils/guc.h"

PG_MODULE_MAGIC;

char	   *copass_account_id_setting = NULL;
char	   *copass_account_claim = NULL;
int			copass_max_metadata_bytes = 65536;

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomStringVariable(COPASS_ACCOUNT_ID_SETTING,
							   "The calling account's UUID, for SQL callers that do not use JWT claims.",
							   "Empty or not a UUID means no account.",
							   &copass_account_id_setting,
							   "",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("copass.account_claim",
							   "Name of the claim in request.jwt.claims that holds the account's UUID.",
							   NULL,
							   &copass_account_claim,
							   "account_id",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("copass.max_metadata_bytes",
							"Largest sandbox metadata document accepted, in bytes of its text form.",
							NULL,
							&copass_max_metadata_bytes,
							65536,
							2,
							INT_MAX,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("copass");
}
