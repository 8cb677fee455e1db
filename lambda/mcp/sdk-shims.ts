// Stands in for `@modelcontextprotocol/server/_shims` in the handler bundles (BUNDLE_OPTIONS' `alias`): the same exports
// as the SDK's Node.js shim, except that its JSON Schema validator (ajv with ajv-formats, about 150 KiB) is loaded on its
// first use instead of when the bundle loads. The server uses it only to check an elicitation form's answer, which this
// server never asks for (its tools are stateless reads), so a cold start no longer parses and runs ajv's modules.
import process from 'node:process';
import type { JsonSchemaType, JsonSchemaValidator, jsonSchemaValidator } from '@modelcontextprotocol/server';

export class DefaultJsonSchemaValidator implements jsonSchemaValidator {
  private inner?: jsonSchemaValidator;

  getValidator<T>(schema: JsonSchemaType): JsonSchemaValidator<T> {
    if (!this.inner) {
      const { AjvJsonSchemaValidator: Ajv } = require('@modelcontextprotocol/server/validators/ajv') as typeof import('@modelcontextprotocol/server/validators/ajv');
      this.inner = new Ajv();
    }
    return this.inner.getValidator<T>(schema);
  }
}

export { process };
