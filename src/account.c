/*
 * account.c: who is calling.
 *
 * The account comes from two settings: copass.account_id (set by a trusted
 * SQL backend) and the claim named by copass.account_claim inside
 * request.jwt.claims (set by PostgREST for each request).  Nothing else is
 * trusted and nothing is remembered across calls except a parse cache keyed
 * by the exact text of the claims and the claim name, so a stale value can
 * never decide who is calling: a new request, a later transaction or a
 * set_config() later in the same transaction changes the text and forces a
 * new parse.
 *
 * The claims are parsed with PostgreSQL's JSON lexer and a small iterative
 * parser (no recursion, so no nesting depth can exhaust the stack).  Anything
 * that is not a JSON object whose member is a UUID string means "no account".
 */
#include "copass.h"

#include "common/jsonapi.h"
#include "mb/pg_wchar.h"
#include "utils/guc.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(copass_current_account_id);

/* The last claims text parsed, the claim name it was parsed for, the result */
static MemoryContext claims_cache_context = NULL;
static char *claims_cache_text = NULL;
static char *claims_cache_claim = NULL;
static bool claims_cache_found = false;
static pg_uuid_t claims_cache_account;

static inline int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Parse a UUID in any spelling uuid_in accepts (optional braces, upper or
 * lower case, a hyphen allowed after any group of four digits), without
 * raising an error: returns false for anything else.
 */
static bool
copass_parse_uuid(const char *str, pg_uuid_t *out)
{
	const char *p = str;
	bool		braces = false;

	if (*p == '{')
	{
		braces = true;
		p++;
	}
	for (int i = 0; i < UUID_LEN; i++)
	{
		int			hi = hex_value(p[0]);
		int			lo = hi < 0 ? -1 : hex_value(p[1]);

		if (lo < 0)
			return false;
		out->data[i] = (unsigned char) (hi << 4 | lo);
		p += 2;
		if (*p == '-' && i % 2 == 1 && i < UUID_LEN - 1)
			p++;
	}
	if (braces && *p++ != '}')
		return false;
	return *p == '\0';
}

/*
 * The text of the string token just lexed, its escapes decoded; NULL when it
 * escapes a character outside ASCII, which neither a claim name nor a UUID
 * needs (decoding those could mean an encoding conversion, and an error).
 * The lexer has already checked the escapes' syntax.
 */
static char *
token_string(JsonLexContext *lex)
{
	const char *p = lex->token_start + 1;
	const char *end = lex->token_terminator - 1;
	StringInfoData out;

	initStringInfo(&out);
	while (p < end)
	{
		char		c = *p++;

		if (c == '\\')
		{
			c = *p++;
			if (c == 'u')
			{
				int			code = 0;

				for (int i = 0; i < 4; i++)
					code = code * 16 + hex_value(*p++);
				if (code == 0 || code > 0x7F)
					return NULL;
				c = (char) code;
			}
			else if (c == 'b')
				c = '\b';
			else if (c == 'f')
				c = '\f';
			else if (c == 'n')
				c = '\n';
			else if (c == 'r')
				c = '\r';
			else if (c == 't')
				c = '\t';
			/* otherwise a quote, backslash or slash stands for itself */
		}
		appendStringInfoChar(&out, c);
	}
	return out.data;
}

typedef enum ClaimsState
{
	EXPECT_VALUE,				/* a value must come next */
	EXPECT_VALUE_OR_END,		/* just after '[' */
	EXPECT_KEY,					/* just after ',' inside an object */
	EXPECT_KEY_OR_END,			/* just after '{' */
	EXPECT_COLON,
	EXPECT_COMMA_OR_END,		/* after a value inside a container */
	EXPECT_EOF					/* after the top-level value */
} ClaimsState;

/*
 * Find the string value of top-level member `claim` in the JSON text `json`.
 * Returns false unless json is a valid JSON object and the member (the last
 * one, as in jsonb, when the key repeats) is a string; *value is then a
 * palloc'd copy.
 */
static bool
claims_member(const char *json, const char *claim, char **value)
{
	JsonLexContext *lex;
	StringInfoData containers;	/* '{' or '[' for each open container */
	ClaimsState state = EXPECT_VALUE;
	bool		at_claim = false;	/* the value being read is the claim's */

	*value = NULL;
	if (!pg_verifymbstr(json, strlen(json), true))
		return false;
	/* without escape processing, which could raise an encoding error */
	lex = makeJsonLexContextCstringLen(unconstify(char *, json), strlen(json),
									   GetDatabaseEncoding(), false);
	initStringInfo(&containers);

	for (;;)
	{
		JsonTokenType token;
		char		open;

		if (json_lex(lex) != JSON_SUCCESS)
			return false;
		token = lex->token_type;
		open = containers.len > 0 ? containers.data[containers.len - 1] : '\0';

		switch (state)
		{
			case EXPECT_VALUE_OR_END:
				if (token == JSON_TOKEN_ARRAY_END)
				{
					containers.data[--containers.len] = '\0';
					break;
				}
				/* FALLTHROUGH */
			case EXPECT_VALUE:
				if (containers.len == 0 && token != JSON_TOKEN_OBJECT_START)
					return false;	/* the claims must be an object */
				if (at_claim)
				{
					*value = token == JSON_TOKEN_STRING ? token_string(lex) : NULL;
					at_claim = false;
				}
				if (token == JSON_TOKEN_OBJECT_START || token == JSON_TOKEN_ARRAY_START)
				{
					appendStringInfoChar(&containers,
										 token == JSON_TOKEN_OBJECT_START ? '{' : '[');
					state = token == JSON_TOKEN_OBJECT_START ? EXPECT_KEY_OR_END : EXPECT_VALUE_OR_END;
					continue;
				}
				if (token != JSON_TOKEN_STRING && token != JSON_TOKEN_NUMBER &&
					token != JSON_TOKEN_TRUE && token != JSON_TOKEN_FALSE &&
					token != JSON_TOKEN_NULL)
					return false;
				break;
			case EXPECT_KEY_OR_END:
				if (token == JSON_TOKEN_OBJECT_END)
				{
					containers.data[--containers.len] = '\0';
					break;
				}
				/* FALLTHROUGH */
			case EXPECT_KEY:
				if (token != JSON_TOKEN_STRING)
					return false;
				if (containers.len == 1)
				{
					char	   *key = token_string(lex);

					at_claim = key != NULL && strcmp(key, claim) == 0;
				}
				else
					at_claim = false;
				state = EXPECT_COLON;
				continue;
			case EXPECT_COLON:
				if (token != JSON_TOKEN_COLON)
					return false;
				state = EXPECT_VALUE;
				continue;
			case EXPECT_COMMA_OR_END:
				if (token == JSON_TOKEN_COMMA)
				{
					state = open == '{' ? EXPECT_KEY : EXPECT_VALUE;
					continue;
				}
				if ((token == JSON_TOKEN_OBJECT_END && open == '{') ||
					(token == JSON_TOKEN_ARRAY_END && open == '['))
				{
					containers.data[--containers.len] = '\0';
					break;
				}
				return false;
			case EXPECT_EOF:
				return token == JSON_TOKEN_END && *value != NULL;
		}
		/* a value (scalar or closed container) has just ended */
		state = containers.len == 0 ? EXPECT_EOF : EXPECT_COMMA_OR_END;
	}
}

/*
 * The account in the claims text, parsing only when the text or the claim
 * name differs from the last call's.
 */
static bool
claims_account(const char *claims, pg_uuid_t *out)
{
	const char *claim = copass_account_claim ? copass_account_claim : "";

	if (claims_cache_text == NULL ||
		strcmp(claims, claims_cache_text) != 0 ||
		strcmp(claim, claims_cache_claim) != 0)
	{
		MemoryContext parse_context;
		MemoryContext old;
		char	   *value;

		if (claims_cache_context == NULL)
			claims_cache_context = AllocSetContextCreate(TopMemoryContext,
														 "copass claims cache",
														 ALLOCSET_SMALL_SIZES);
		parse_context = AllocSetContextCreate(CurrentMemoryContext,
											  "copass claims parse",
											  ALLOCSET_DEFAULT_SIZES);
		old = MemoryContextSwitchTo(parse_context);
		claims_cache_found = claims_member(claims, claim, &value) &&
			copass_parse_uuid(value, &claims_cache_account);
		MemoryContextSwitchTo(old);
		MemoryContextDelete(parse_context);

		/* remember the text only once the result belongs to it */
		MemoryContextReset(claims_cache_context);
		claims_cache_text = MemoryContextStrdup(claims_cache_context, claims);
		claims_cache_claim = MemoryContextStrdup(claims_cache_context, claim);
	}
	if (claims_cache_found)
		*out = claims_cache_account;
	return claims_cache_found;
}

/*
 * The calling account, or false when there is none.  Both settings valid but
 * naming different accounts is refused, never resolved in favour of one.
 */
bool
copass_current_account(pg_uuid_t *out)
{
	const char *claims = GetConfigOption(JWT_CLAIMS_SETTING, true, false);
	pg_uuid_t	from_setting;
	pg_uuid_t	from_claims;
	bool		have_setting;
	bool		have_claims;

	have_setting = copass_account_id_setting != NULL &&
		copass_parse_uuid(copass_account_id_setting, &from_setting);
	have_claims = claims != NULL && claims[0] != '\0' &&
		claims_account(claims, &from_claims);

	if (have_setting && have_claims &&
		memcmp(from_setting.data, from_claims.data, UUID_LEN) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("the request names two different accounts"),
				 errdetail("copass.account_id and the account claim in request.jwt.claims disagree.")));

	if (have_setting)
		*out = from_setting;
	else if (have_claims)
		*out = from_claims;
	return have_setting || have_claims;
}

/* The calling account; raises 42501 when there is none */
void
copass_require_account(pg_uuid_t *out)
{
	if (!copass_current_account(out))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("no account in the request"),
				 errhint("Authenticate with a JWT whose \"%s\" claim is the account's UUID, or set copass.account_id.",
						 copass_account_claim ? copass_account_claim : "")));
}

/* copass.current_account_id() -> uuid, NULL when nobody valid is calling */
Datum
copass_current_account_id(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *account = palloc(sizeof(pg_uuid_t));

	if (!copass_current_account(account))
		PG_RETURN_NULL();
	PG_RETURN_UUID_P(account);
}
