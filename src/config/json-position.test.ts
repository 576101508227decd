import {describe, expect, it} from 'vitest'
import {lineAndColumn, locateJsonSyntaxError} from './json-position.js'

describe('locateJsonSyntaxError', () => {
  it('finds nothing in valid JSON', () => {
    for (const text of ['{}', ' [1, -2.5e3, "a\\u00e9\\n", true, false, null, {"a": {}}] ', '"x"', '0']) {
      expect(locateJsonSyntaxError(text)).toBeUndefined()
      expect(() => JSON.parse(text)).not.toThrow()
    }
  })

  it.each([
    ['{"a": 1,}', 1, 9, "unexpected '}', expected a property name in double quotes (a trailing comma?)"],
    ['[1, 2,]', 1, 7, "unexpected ']', expected a value (a trailing comma?)"],
    ['{\n  "a": 1\n  "b": 2\n}', 3, 3, "unexpected character, expected ',' or '}' after a property value (a missing comma?)"],
    ["{'a': 1}", 1, 2, 'unexpected character, expected a property name in double quotes'],
    ['{"a" 1}', 1, 6, "unexpected character, expected ':' after the property name"],
    ['{"a": secret}', 1, 7, 'unexpected character, expected a value'],
    ['{"a": "x\ty"}', 1, 9, 'control character'],
    ['{"a": "x\\q"}', 1, 9, 'invalid escape'],
    ['{"a": "x', 1, 7, 'unterminated string'],
    ['{"a": 01}', 1, 8, 'invalid number'],
    ['{"a": 1', 1, 8, 'unexpected end of file'],
    ['', 1, 1, 'unexpected end of file'],
    ['{} {}', 1, 4, 'unexpected data after the end of the JSON value'],
    ['{"é": "€", x}', 1, 12, 'expected a property name'],
  ])('%j: line %i, column %i', (text, line, column, reason) => {
    expect(() => JSON.parse(text)).toThrow()
    const problem = locateJsonSyntaxError(text)
    expect(problem).toMatchObject({line, column})
    expect(problem?.reason).toContain(reason)
  })

  it('counts columns in characters', () => {
    expect(lineAndColumn('a\n😀x', 5)).toEqual({line: 2, column: 3})
  })
})
