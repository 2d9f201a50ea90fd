Unicode true

####
## Tsunagu's installer, from Wails v2.15.0's project.nsi. Built by build/windows/package.sh
## (`make package-windows`), which passes:
##   -DARG_WAILS_AMD64_BINARY=...\Tsunagu.exe   the app (signed first when a certificate is set)
##   -DARG_TSUNAGU_CLI=...\tsunagu-cli.exe      the CLI, for Task Scheduler imports and backups
##   -DINFO_PRODUCTVERSION=x.y.z.w              the version resource (build/version.sh numeric)
##   -DTSUNAGU_VERSION=v1.2.3                   the version shown to people (git describe)
##   -DOUTFILE=...\Tsunagu-<version>-windows-amd64-installer.exe
##   -DINFO_COMPANYNAME=...                     the publisher (PUBLISHER=...; default Tsunagu)
##   -DSIGN_SCRIPT=...\sign.sh                  only when signing: signs the uninstaller too
##
## Per user: no administrator rights, installed into %LOCALAPPDATA%\Programs\Tsunagu, HKCU
## uninstall entry, Start-menu shortcut for this user. The user's data (%APPDATA%\Tsunagu: the
## encrypted DB, backups, settings) is never inside the install folder, and the uninstaller keeps
## it unless the user ticks "also delete my data".
####

!ifndef TSUNAGU_VERSION
    !define TSUNAGU_VERSION "${INFO_PRODUCTVERSION}"
!endif

!include "wails_tools.nsh"
!include "firewall.nsh" # the seat port's rule, generated from internal/seat/firewall

VIProductVersion "${INFO_PRODUCTVERSION}"
VIFileVersion    "${INFO_PRODUCTVERSION}"

VIAddVersionKey /LANG=0 "CompanyName"     "${INFO_COMPANYNAME}"
VIAddVersionKey /LANG=0 "FileDescription" "${INFO_PRODUCTNAME} Installer"
VIAddVersionKey /LANG=0 "ProductVersion"  "${TSUNAGU_VERSION}"
VIAddVersionKey /LANG=0 "FileVersion"     "${INFO_PRODUCTVERSION}"
VIAddVersionKey /LANG=0 "LegalCopyright"  "${INFO_COPYRIGHT}"
VIAddVersionKey /LANG=0 "ProductName"     "${INFO_PRODUCTNAME}"

# Enable HiDPI support. https://nsis.sourceforge.io/Reference/ManifestDPIAware
ManifestDPIAware true

!include "MUI2.nsh"

!define MUI_ICON "..\icon.ico"
!define MUI_UNICON "..\icon.ico"
!define MUI_FINISHPAGE_NOAUTOCLOSE
!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_RUN "$INSTDIR\${PRODUCT_EXECUTABLE}"
!define MUI_UNCOMPONENTSPAGE_NODESC

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_COMPONENTS # the optional firewall rule of a branch's primary, unticked
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH

!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_COMPONENTS # the "also delete my data" box, unticked
!insertmacro MUI_UNPAGE_INSTFILES

# Japanese first: the installer follows the Windows display language.
!insertmacro MUI_LANGUAGE "Japanese"
!insertmacro MUI_LANGUAGE "English"

LangString ArchNotSupported   ${LANG_JAPANESE} "このパソコン (CPU) には対応していません。64 ビット版 (x64) の Windows 10 以降が必要です。"
LangString ArchNotSupported   ${LANG_ENGLISH}  "This product can't be installed on this computer: it needs 64-bit (x64) Windows 10 or later."
LangString Win10Required      ${LANG_JAPANESE} "Windows 10 (Server 2016) 以降が必要です。"
LangString Win10Required      ${LANG_ENGLISH}  "This product is only supported on Windows 10 (Server 2016) and later."
LangString InstallingWebView2 ${LANG_JAPANESE} "WebView2 ランタイムをインストールしています"
LangString InstallingWebView2 ${LANG_ENGLISH}  "Installing: WebView2 Runtime"
LangString SecProgram         ${LANG_JAPANESE} "つなぐ Tsunagu (プログラム)"
LangString SecProgram         ${LANG_ENGLISH}  "Tsunagu (the program)"
LangString SecFirewall        ${LANG_JAPANESE} "支店の親機 (顧客データベースを置く PC) にする: 子機からの接続をファイアウォールで許可する (TCP ${TSUNAGU_FW_PORT}、プライベート ネットワークのみ。管理者の確認が 1 回表示されます)"
LangString SecFirewall        ${LANG_ENGLISH}  "Branch primary (the PC that keeps the customer database): allow seats through the firewall (TCP ${TSUNAGU_FW_PORT}, private networks only; one administrator prompt)"
LangString FirewallAdded      ${LANG_JAPANESE} "ファイアウォールの許可を追加しました (TCP ${TSUNAGU_FW_PORT}、プライベート ネットワークのみ)。"
LangString FirewallAdded      ${LANG_ENGLISH}  "The firewall now allows seats (TCP ${TSUNAGU_FW_PORT}, private networks only)."
LangString FirewallFailed     ${LANG_JAPANESE} "ファイアウォールの許可は追加されませんでした。あとで職員画面の「子機」欄の「ファイアウォールの許可を追加」から追加できます。"
LangString FirewallFailed     ${LANG_ENGLISH}  "The firewall rule was not added. It can be added later from the staff screen's seat panel (Allow through the firewall)."
LangString SecData            ${LANG_JAPANESE} "データも削除する (顧客データベース・バックアップ・設定: %APPDATA%\Tsunagu)。元に戻せません"
LangString SecData            ${LANG_ENGLISH}  "Also delete my data (customer database, backups, settings: %APPDATA%\Tsunagu). This cannot be undone"

!ifdef SIGN_SCRIPT
    # Sign the uninstaller that is written into the installer (NSIS 3.08+).
    !uninstfinalize '"${SIGN_SCRIPT}" "%1"' = 0
!endif

Name "${INFO_PRODUCTNAME}"
!ifdef OUTFILE
    OutFile "${OUTFILE}"
!else
    OutFile "..\..\bin\Tsunagu-${TSUNAGU_VERSION}-windows-amd64-installer.exe"
!endif
InstallDir "$LOCALAPPDATA\Programs\${INFO_PROJECTNAME}"
InstallDirRegKey HKCU "${UNINST_KEY}" "InstallLocation" # an update goes where the last install went
ShowInstDetails show

Function .onInit
    !insertmacro wails.checkArchitecture
FunctionEnd

# The data folder is never the install folder (Next stays disabled).
Function .onVerifyInstDir
    StrCmp $INSTDIR "$APPDATA\${INFO_PROJECTNAME}" 0 +2
        Abort
FunctionEnd

Section
    !insertmacro wails.setShellContext

    !insertmacro wails.webview2runtime

    SetOutPath $INSTDIR

    !insertmacro wails.files

    CreateShortcut "$SMPROGRAMS\${INFO_PRODUCTNAME}.lnk" "$INSTDIR\${PRODUCT_EXECUTABLE}"

    !insertmacro wails.writeUninstaller
SectionEnd

# A branch's primary only, unticked: the per-user installer has no administrator rights, so
# netsh runs elevated (one UAC prompt), exactly the rule the seat panel's button adds. The
# rule is checked afterwards (a declined prompt adds nothing) and remembered for the uninstaller.
Section /o "$(SecFirewall)" SecFirewall
    !insertmacro wails.setShellContext
    ExecShellWait "runas" "$SYSDIR\netsh.exe" '${TSUNAGU_FW_ADD}' SW_HIDE
    nsExec::ExecToStack '"$SYSDIR\netsh.exe" ${TSUNAGU_FW_SHOW}'
    Pop $0 # netsh's exit code: 0 when the rule exists
    Pop $1
    StrCmp $0 "0" fw_added
        DetailPrint "$(FirewallFailed)"
        Goto fw_done
    fw_added:
        DetailPrint "$(FirewallAdded)"
        WriteRegStr HKCU "${UNINST_KEY}" "FirewallRule" "${TSUNAGU_FW_PORT}"
    fw_done:
SectionEnd

Section "un.$(SecProgram)" SecUnProgram
    SectionIn RO
    !insertmacro wails.setShellContext

    # The firewall rule this installer added (elevated again: one UAC prompt).
    ReadRegStr $0 HKCU "${UNINST_KEY}" "FirewallRule"
    StrCmp $0 "" fw_kept
        ExecShellWait "runas" "$SYSDIR\netsh.exe" '${TSUNAGU_FW_DELETE}' SW_HIDE
    fw_kept:

    RMDir /r "$APPDATA\${PRODUCT_EXECUTABLE}" # the WebView2 cache Wails keeps per executable

    # Only the files this installer put there: the folder may have been chosen by hand.
    Delete "$INSTDIR\${PRODUCT_EXECUTABLE}"
    Delete "$INSTDIR\${CLI_EXECUTABLE}"
    Delete "$SMPROGRAMS\${INFO_PRODUCTNAME}.lnk"

    !insertmacro wails.deleteUninstaller
    RMDir $INSTDIR
SectionEnd

# Unticked by default, and never selected in a silent (/S) uninstall.
Section /o "un.$(SecData)" SecUnData
    !insertmacro wails.setShellContext
    RMDir /r "$APPDATA\${INFO_PROJECTNAME}"
SectionEnd
