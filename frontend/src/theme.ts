import type { GlobalThemeOverrides } from 'naive-ui'

export const FONT_STACK =
  '"Hiragino Sans", "Noto Sans JP", "Noto Sans CJK JP", "Yu Gothic UI", Meiryo, system-ui, sans-serif'

/** Calm, bank-like palette: deep navy primary, neutral greys, amber warnings. */
export const palette = {
  primary: '#1F4E8C',
  primaryHover: '#2B5FA3',
  primaryPressed: '#173C6C',
  primarySoft: '#E8EFF8',
  ink: '#1E2A38',
  inkSoft: '#556274',
  inkMuted: '#7C8796',
  line: '#DDE3EA',
  canvas: '#F3F5F8',
  surface: '#FFFFFF',
  warning: '#B86E00',
  warningBg: '#FFF6E0',
  warningLine: '#F0CF86',
  error: '#B3261E',
  success: '#2E7D5B',
  lineGreen: '#06C755',
}

export const themeOverrides: GlobalThemeOverrides = {
  common: {
    fontFamily: FONT_STACK,
    fontSize: '14px',
    fontSizeMedium: '14px',
    primaryColor: palette.primary,
    primaryColorHover: palette.primaryHover,
    primaryColorPressed: palette.primaryPressed,
    primaryColorSuppl: palette.primaryHover,
    infoColor: palette.primary,
    infoColorHover: palette.primaryHover,
    infoColorPressed: palette.primaryPressed,
    warningColor: '#C97A00',
    warningColorHover: '#D88A10',
    warningColorPressed: '#A86500',
    errorColor: palette.error,
    errorColorHover: '#C73A31',
    errorColorPressed: '#8F1D17',
    successColor: palette.success,
    textColorBase: palette.ink,
    textColor1: palette.ink,
    textColor2: '#2F3B4A',
    textColor3: palette.inkSoft,
    borderColor: palette.line,
    dividerColor: palette.line,
    borderRadius: '6px',
    borderRadiusSmall: '4px',
    bodyColor: palette.canvas,
  },
  Button: {
    fontWeight: '500',
  },
  Drawer: {
    titleFontSize: '18px',
  },
  Tag: {
    borderRadius: '4px',
  },
  // A hint under a field (feedback) gets room below it, so it reads as
  // belonging to its field and not to the next label.
  Form: {
    feedbackPadding: '4px 0 16px 2px',
    feedbackFontSizeMedium: '13px',
  },
}
