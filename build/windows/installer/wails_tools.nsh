# Tsunagu's NSIS helpers, from the wails_tools.nsh that Wails v2.15.0 generates for `wails build -nsis`,
# resolved and cut down to a per-user install. It is kept in the repo (not regenerated) because
# build/windows/package.sh runs makensis itself, after signing the executables it packs.

!include "x64.nsh"
!include "WinVer.nsh"
!include "FileFunc.nsh"

!ifndef INFO_PROJECTNAME
    !define INFO_PROJECTNAME "Tsunagu"
!endif
!ifndef INFO_COMPANYNAME
    !define INFO_COMPANYNAME "Tsunagu"
!endif
!ifndef INFO_PRODUCTNAME
    !define INFO_PRODUCTNAME "つなぐ Tsunagu"
!endif
!ifndef INFO_PRODUCTVERSION
    !error "INFO_PRODUCTVERSION (x.y.z.w) must be defined: build/windows/package.sh passes it"
!endif
!ifndef INFO_COPYRIGHT
    !define INFO_COPYRIGHT "Tsunagu"
!endif
!ifndef PRODUCT_EXECUTABLE
    !define PRODUCT_EXECUTABLE "Tsunagu.exe"
!endif
!ifndef CLI_EXECUTABLE
    !define CLI_EXECUTABLE "tsunagu-cli.exe"
!endif
!ifndef UNINST_KEY_NAME
    !define UNINST_KEY_NAME "Tsunagu"
!endif
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${UNINST_KEY_NAME}"

# Per user: no administrator rights, HKCU keys, %LOCALAPPDATA%\Programs.
!ifndef REQUEST_EXECUTION_LEVEL
    !define REQUEST_EXECUTION_LEVEL "user"
!endif
RequestExecutionLevel "${REQUEST_EXECUTION_LEVEL}"

!ifndef ARG_WAILS_AMD64_BINARY
    !error "ARG_WAILS_AMD64_BINARY (the app's .exe) must be defined"
!endif
!ifndef ARG_TSUNAGU_CLI
    !error "ARG_TSUNAGU_CLI (tsunagu-cli.exe) must be defined"
!endif
!define ARCH "amd64"

!macro wails.checkArchitecture
    ${If} ${AtLeastWin10}
        ${If} ${IsNativeAMD64}
            Goto ok
        ${EndIf}
        IfSilent silentArch notSilentArch
        silentArch:
            SetErrorLevel 65
            Abort
        notSilentArch:
            MessageBox MB_OK "$(ArchNotSupported)"
            Quit
    ${Else}
        IfSilent silentWin notSilentWin
        silentWin:
            SetErrorLevel 64
            Abort
        notSilentWin:
            MessageBox MB_OK "$(Win10Required)"
            Quit
    ${EndIf}
    ok:
!macroend

!macro wails.files
    File "/oname=${PRODUCT_EXECUTABLE}" "${ARG_WAILS_AMD64_BINARY}"
    File "/oname=${CLI_EXECUTABLE}" "${ARG_TSUNAGU_CLI}"
!macroend

!macro wails.writeUninstaller
    WriteUninstaller "$INSTDIR\uninstall.exe"

    SetRegView 64
    WriteRegStr HKCU "${UNINST_KEY}" "Publisher" "${INFO_COMPANYNAME}"
    WriteRegStr HKCU "${UNINST_KEY}" "DisplayName" "${INFO_PRODUCTNAME}"
    WriteRegStr HKCU "${UNINST_KEY}" "DisplayVersion" "${TSUNAGU_VERSION}"
    WriteRegStr HKCU "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\${PRODUCT_EXECUTABLE}"
    WriteRegStr HKCU "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
    WriteRegStr HKCU "${UNINST_KEY}" "UninstallString" "$\"$INSTDIR\uninstall.exe$\""
    WriteRegStr HKCU "${UNINST_KEY}" "QuietUninstallString" "$\"$INSTDIR\uninstall.exe$\" /S"
    WriteRegDWORD HKCU "${UNINST_KEY}" "NoModify" 1
    WriteRegDWORD HKCU "${UNINST_KEY}" "NoRepair" 1

    ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
    IntFmt $0 "0x%08X" $0
    WriteRegDWORD HKCU "${UNINST_KEY}" "EstimatedSize" "$0"
!macroend

!macro wails.deleteUninstaller
    Delete "$INSTDIR\uninstall.exe"
    SetRegView 64
    DeleteRegKey HKCU "${UNINST_KEY}"
!macroend

!macro wails.setShellContext
    SetShellVarContext current
!macroend

# WebView2, as Wails documents: an installed runtime (machine-wide, or this user's) is used;
# otherwise the small bootstrapper shipped in the installer (Wails' MicrosoftEdgeWebview2Setup.exe,
# copied into tmp\ by package.sh) downloads and installs it. Windows 11 and current Windows 10
# already have the runtime.
!macro wails.webview2runtime
    SetRegView 64
    ReadRegStr $0 HKLM "SOFTWARE\WOW6432Node\Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}" "pv"
    ${If} $0 != ""
    ${AndIf} $0 != "0.0.0.0"
        Goto ok
    ${EndIf}
    ReadRegStr $0 HKCU "Software\Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}" "pv"
    ${If} $0 != ""
    ${AndIf} $0 != "0.0.0.0"
        Goto ok
    ${EndIf}

    SetDetailsPrint both
    DetailPrint "$(InstallingWebView2)"
    SetDetailsPrint listonly

    InitPluginsDir
    CreateDirectory "$pluginsdir\webview2bootstrapper"
    SetOutPath "$pluginsdir\webview2bootstrapper"
    File "tmp\MicrosoftEdgeWebview2Setup.exe"
    ExecWait '"$pluginsdir\webview2bootstrapper\MicrosoftEdgeWebview2Setup.exe" /silent /install'

    SetDetailsPrint both
    ok:
!macroend
