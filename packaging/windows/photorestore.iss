; Inno Setup 6 script: the Windows installer of PhotoRestore (per-user or all-users, x64).
;
; Build the onedir app on Windows first (docs/packaging.md, "Windows"), then from the repository root:
;   iscc /DAppVersion=<app.__version__> packaging\windows\photorestore.iss
; Output: packaging\dist\photorestore-<version>-windows-x64-setup.exe
;
; The installer copies packaging\dist\photorestore\ (photorestore.exe: the windowed GUI;
; photorestore-cli.exe: the same app with a console, for `run`, `models`, `--selftest`), adds a Start
; menu entry, and offers PhotoRestore under "Open with" for the RAW and image types it reads. It
; never makes itself the default program for a type: Windows asks the user.
; The extension list is packaging/file_types.py FILE_TYPES (tests/packaging checks they agree).

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=<app.__version__> packaging\windows\photorestore.iss
#endif
#ifndef SourceDir
  #define SourceDir "..\dist\photorestore"
#endif
#ifndef IconFile
  #define IconFile "..\build\icons\photorestore.ico"
#endif
#ifndef Edition
  #define Edition ""
#endif

[Setup]
; AppId identifies the product to Windows across versions: never change it.
AppId={{CFF4154E-9B24-484E-96F8-F62F43BF8738}
AppName=PhotoRestore
AppVersion={#AppVersion}
AppVerName=PhotoRestore {#AppVersion}
AppPublisher=PhotoRestore developers
DefaultDirName={autopf}\PhotoRestore
DefaultGroupName=PhotoRestore
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\dist
OutputBaseFilename=photorestore{#Edition}-{#AppVersion}-windows-x64-setup
SetupIconFile={#IconFile}
UninstallDisplayIcon={app}\photorestore.exe
; torch is most of the size; lzma2 on 700 MB of DLLs takes a few minutes.
Compression=lzma2/max
SolidCompression=yes
LZMANumBlockThreads=4
WizardStyle=modern
ChangesAssociations=yes

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "openwith"; Description: "Offer PhotoRestore in ""Open with"" for RAW, JPEG, PNG, TIFF and WebP files"; GroupDescription: "File types:"

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\PhotoRestore"; Filename: "{app}\photorestore.exe"
Name: "{autodesktop}\PhotoRestore"; Filename: "{app}\photorestore.exe"; Tasks: desktopicon

[Registry]
Root: HKA; Subkey: "Software\Classes\PhotoRestore.Image"; ValueType: string; ValueName: ""; ValueData: "Photo (PhotoRestore)"; Flags: uninsdeletekey; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\PhotoRestore.Image\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\photorestore.exe,0"; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\PhotoRestore.Image\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\photorestore.exe"" ""%1"""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe"; ValueType: string; ValueName: "FriendlyAppName"; ValueData: "PhotoRestore"; Flags: uninsdeletekey; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.cr2\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".cr2"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.cr3\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".cr3"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.crw\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".crw"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.nef\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".nef"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.nrw\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".nrw"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.arw\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".arw"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.sr2\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".sr2"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.srf\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".srf"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.dng\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".dng"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.orf\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".orf"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.rw2\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".rw2"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.raw\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".raw"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.raf\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".raf"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.pef\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".pef"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.x3f\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".x3f"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.mrw\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".mrw"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.dcr\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".dcr"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.kdc\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".kdc"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.k25\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".k25"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.srw\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".srw"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.3fr\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".3fr"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.fff\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".fff"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.erf\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".erf"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.mef\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".mef"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.mos\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".mos"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.iiq\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".iiq"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.rwl\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".rwl"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.jpg\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".jpg"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.jpeg\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".jpeg"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.jpe\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".jpe"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.png\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".png"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.tif\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".tif"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.tiff\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".tiff"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.webp\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".webp"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.bmp\OpenWithProgids"; ValueType: string; ValueName: "PhotoRestore.Image"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\photorestore.exe\SupportedTypes"; ValueType: string; ValueName: ".bmp"; ValueData: ""; Tasks: openwith

[Run]
Filename: "{app}\photorestore.exe"; Description: "{cm:LaunchProgram,PhotoRestore}"; Flags: nowait postinstall skipifsilent
