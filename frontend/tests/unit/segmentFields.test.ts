// The segment editor's own checks name the wrong part of each condition the
// way internal/segment (rule.go Validate) does, by the same paths, so a
// mark from either side lands on the same input (issue 19 item 6).
import { describe, expect, it } from 'vitest'
import type { SegmentNode } from '../../src/api'
import { conditionProblem, nodeField, pathOfField, treeProblems } from '../../src/components/campaigns/rules'

describe('conditionProblem', () => {
  it.each([
    [{ kind: 'field', field: 'branch', cmp: 'eq', value: '' }, { part: 'value', code: 'errors.fieldRequired' }],
    [{ kind: 'field', field: 'branch', cmp: 'in', values: [] }, { part: 'values', code: 'errors.fieldRequired' }],
    [{ kind: 'field', field: 'age', minAge: 0, maxAge: 0 }, { part: 'minAge', code: 'errors.fieldRequired' }],
    [{ kind: 'field', field: 'age', minAge: 60, maxAge: 30 }, { part: 'maxAge', code: 'errors.fieldRange' }],
    [{ kind: 'field', field: 'postal_prefix', value: '' }, { part: 'value', code: 'errors.fieldRequired' }],
    [{ kind: 'field', field: 'postal_prefix', value: '18a' }, { part: 'value', code: 'errors.fieldFormat' }],
    [{ kind: 'product', productType: '' }, { part: 'productType', code: 'errors.fieldRequired' }],
    [{ kind: 'product', productType: '定期預金', maturesFromDays: 30, maturesToDays: 0 }, { part: 'maturesToDays', code: 'errors.fieldRange' }],
    [{ kind: 'attribute', key: '', cmp: 'eq', value: 'x' }, { part: 'key', code: 'errors.fieldRequired' }],
    [{ kind: 'attribute', key: 'rank', cmp: 'between', values: ['1', ''] }, { part: 'values', code: 'errors.fieldRequired' }],
    [{ kind: 'tag', value: '' }, { part: 'value', code: 'errors.fieldRequired' }],
    [{ kind: 'lastContact', direction: 'in', days: 0 }, { part: 'days', code: 'errors.fieldRequired' }],
    [{ kind: 'lastContact', direction: 'in', days: 4000 }, { part: 'days', code: 'errors.fieldAtMost', max: 3650 }],
    [{ kind: 'survey', survey: '' }, { part: 'survey', code: 'errors.fieldChoose' }],
    [{ kind: 'horoscope' }, { part: 'kind', code: 'errors.fieldChoose' }],
    [{ kind: 'field', field: 'branch', cmp: 'eq', value: '001' }, null],
    [{ kind: 'field', field: 'age', minAge: 60, maxAge: 0 }, null],
  ] as const)('%j → %j', (c, want) => {
    expect(conditionProblem(c as never)).toEqual(want)
  })
})

describe('paths in the tree', () => {
  const tree: SegmentNode = {
    op: 'and',
    children: [
      { cond: { kind: 'tag', value: '年金' } },
      { op: 'or', children: [{ cond: { kind: 'tag', value: '' } }, { cond: { kind: 'field', field: 'age', minAge: 60, maxAge: 40 } }] },
    ],
  }

  it('lists every incomplete condition by its fielderr path', () => {
    expect(treeProblems(tree, 'rules')).toEqual([
      { field: 'rules.children.1.children.0.cond.value', code: 'errors.fieldRequired' },
      { field: 'rules.children.1.children.1.cond.maxAge', code: 'errors.fieldRange' },
    ])
  })

  it('goes from a node to its path and back', () => {
    expect(nodeField('rules', [1, 0])).toBe('rules.children.1.children.0')
    expect(nodeField('rules', [])).toBe('rules')
    expect(nodeField('', [2])).toBe('children.2')
    expect(pathOfField('rules', 'rules.children.1.children.0.cond.value')).toEqual([1, 0])
    expect(pathOfField('rules', 'rules')).toEqual([])
    expect(pathOfField('rules', 'name')).toBeNull()
    expect(pathOfField('spec.rules', 'spec.rules.children.3.cond')).toEqual([3])
  })
})
