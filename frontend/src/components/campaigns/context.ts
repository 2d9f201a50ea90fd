import type { InjectionKey, Ref } from 'vue'
import type { SegmentNode } from '../../api'
import type { FieldErrors } from '../../composables/fieldErrors'

/** What the recursive rule editor shares: the tree and the choices offered. */
export interface RuleEditorContext {
  tree: Ref<SegmentNode>
  branches: Ref<string[]>
  tags: Ref<string[]>
  readonly: Ref<boolean>
  /**
   * The form's wrong fields (useFieldErrors), where the tree is edited as
   * part of a form: each wrong condition is marked red with its reason.
   * fieldPrefix is the tree's path in the value the form sends (`rules`).
   */
  errors?: FieldErrors
  fieldPrefix?: string
  /** The visible name of a wrong field (the form's label function). */
  label?: (field: string) => string
}

export const RULE_EDITOR: InjectionKey<RuleEditorContext> = Symbol('rule-editor')
