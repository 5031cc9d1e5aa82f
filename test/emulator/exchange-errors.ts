/**
 * The Exchange admin API's error answers, in the four shapes clients have seen (../shared/docs/exchange-admin-api.md):
 * 1. details[0].message holding JSON {Message, TypeName}; 2. details[0].message as `ErrorId|ExceptionType|Message`;
 * 3. innererror.internalexception; 4. not JSON at all (a NUL-byte 403, HTML gateway pages, plain text).
 */

/** An answer the emulator sends: status, body text and extra headers. */
export interface AdminAnswer {
  status: number;
  body: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
}

const json = (status: number, value: unknown, headers?: Record<string, string>): AdminAnswer => ({
  status,
  body: JSON.stringify(value),
  contentType: 'application/json; odata.metadata=minimal; charset=utf-8',
  ...(headers && { headers }),
});

/** Shape 1: the cmdlet's exception serialised as JSON inside details[0].message. */
export function detailsJsonError(status: number, typeName: string, message: string): AdminAnswer {
  return json(status, {
    error: {
      code: status === 404 ? 'NotFound' : 'BadRequest',
      message: 'Error executing cmdlet',
      details: [
        { code: 'Context', target: '', message: JSON.stringify({ Message: message, TypeName: typeName }) },
      ],
    },
  });
}

/** Shape 2: `ErrorId|ExceptionType|Message` in details[0].message. */
export function detailsPipeError(
  status: number,
  errorId: string,
  typeName: string,
  message: string,
): AdminAnswer {
  return json(status, {
    error: {
      code: status === 404 ? 'NotFound' : 'BadRequest',
      message: 'Error executing cmdlet',
      details: [{ code: 'Context', target: '', message: `${errorId}|${typeName}|${message}` }],
    },
  });
}

/** Shape 3: an OData service exception wrapping the real one. */
export function innerError(status: number, typeName: string, message: string): AdminAnswer {
  return json(status, {
    error: {
      code: 'BadRequest',
      message: 'Invalid Operation',
      innererror: {
        message: 'Invalid Operation',
        type: 'Microsoft.Exchange.Admin.OData.Core.ODataServiceException',
        stacktrace: '',
        internalexception: { message, type: typeName, stacktrace: '' },
      },
    },
  });
}

/** Only error.message: what the service answers for paging and routing problems. */
export function plainError(status: number, code: string, message: string): AdminAnswer {
  return json(status, { error: { code, message } });
}

const BACKEND = 'NAMPR01A001DC01.PROD.OUTLOOK.COM';

export const EXO = {
  alreadyExists: (noun: string, name: string): AdminAnswer =>
    detailsJsonError(
      400,
      'Microsoft.Exchange.Data.Directory.ADObjectAlreadyExistsException',
      `The object '${name}' already exists. (${noun})`,
    ),
  notFound: (name: string): AdminAnswer =>
    detailsPipeError(
      404,
      'Ex6F9304',
      'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException',
      `The operation couldn't be performed because object '${name}' couldn't be found on '${BACKEND}'.`,
    ),
  parameterNotFound: (name: string): AdminAnswer =>
    innerError(
      400,
      'System.Management.Automation.ParameterBindingException',
      `A parameter cannot be found that matches parameter name '${name}'.`,
    ),
  missingParameter: (cmdlet: string, name: string): AdminAnswer =>
    innerError(
      400,
      'System.Management.Automation.ParameterBindingException',
      `Cannot process command because of one or more missing mandatory parameters: ${name}. (${cmdlet})`,
    ),
  resultSize: (value: unknown): AdminAnswer =>
    innerError(
      400,
      'System.Management.Automation.ParameterTransformationException',
      `Cannot process argument transformation on parameter 'ResultSize'. Cannot convert value "${String(value)}" to type "Microsoft.Exchange.Data.Unlimited\`1[System.UInt32]". Error: "Unlimited or a positive number expected."`,
    ),
  hashtable: (parameter: string): AdminAnswer =>
    innerError(
      400,
      'System.Management.Automation.ParameterBindingException',
      `Cannot bind parameter '${parameter}'. Cannot convert the "Newtonsoft.Json.Linq.JObject" value of type "Newtonsoft.Json.Linq.JObject" to type "System.Collections.Hashtable".`,
    ),
  unknownCmdlet: (cmdlet: string): AdminAnswer =>
    innerError(
      400,
      'System.Management.Automation.CommandNotFoundException',
      `The term '${cmdlet}' is not recognized as a name of a cmdlet, function, script file, or executable program.`,
    ),
  nullParameters: (): AdminAnswer =>
    innerError(400, 'System.ArgumentNullException', "Value cannot be null. (Parameter 'Parameters')"),
  badBody: (detail: string): AdminAnswer =>
    plainError(400, 'BadRequest', `The request body is invalid: ${detail}`),
  pagination: (): AdminAnswer =>
    plainError(400, 'BadRequest', 'Expired or Invalid pagination request. Default Expiry time is 00:30:00'),
  transient: (): AdminAnswer =>
    detailsJsonError(
      500,
      'Microsoft.Exchange.Data.Directory.ADTransientException',
      'Active Directory operation failed on NAMPR01A001DC01.PROD.OUTLOOK.COM. This error is not retriable.',
    ),
  concurrency: (retryAfterSeconds: number): AdminAnswer => ({
    status: 429,
    body: 'You have reached the maximum number of concurrent requests per tenant. Please wait and try again',
    contentType: 'text/plain; charset=utf-8',
    headers: { 'retry-after': formatSeconds(retryAfterSeconds) },
  }),
  /** The app has Exchange.ManageAsApp but no Entra role: the service answers NUL bytes. */
  noRole: (): AdminAnswer => ({ status: 403, body: Buffer.alloc(32), contentType: 'application/json' }),
  html: (status: number): AdminAnswer => ({
    status,
    body: `<html><head><title>${status}</title></head><body><h1>Service Unavailable</h1><p>The service is temporarily unavailable.</p></body></html>`,
    contentType: 'text/html',
  }),
};

/** Retry-After as the service writes it: decimal seconds ("0.25", "2"). */
export function formatSeconds(seconds: number): string {
  return String(Math.round(seconds * 1000) / 1000);
}

/** 401 as the service answers it: an empty body, the problem named in WWW-Authenticate and x-ms-diagnostics. */
export function unauthorized(reason: string, authorityHost: string): AdminAnswer {
  const quoted = reason.replace(/"/g, "'");
  return {
    status: 401,
    body: '',
    headers: {
      'www-authenticate': `Bearer client_id="00000002-0000-0ff1-ce00-000000000000", trusted_issuers="00000001-0000-0000-c000-000000000000@*", token_types="app_asserted_user_v1 service_asserted_app_v1", authorization_uri="https://${authorityHost}/common/oauth2/authorize", error="invalid_token", error_description="${quoted}"`,
      'x-ms-diagnostics': `2000001;reason="${quoted}";error_category="invalid_token"`,
    },
  };
}
