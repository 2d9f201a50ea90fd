import type { InjectionKey, Ref } from 'vue'
import type { SegmentNode } from '../../api'

/** What the recursive rule editor shares: the tree and the choices offered. */
export interface RuleEditorContext {
  tree: Ref<SegmentNode>
  branches: Ref<string[]>
  tags: Ref<string[]>
  readonly: Ref<boolean>
}

export const RULE_EDITOR: InjectionKey<RuleEditorContext> = Symbol('rule-editor')
