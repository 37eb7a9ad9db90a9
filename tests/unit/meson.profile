# Config profiles (control/profile.c): paste into tests/unit/meson.build, after unit_modules.
# The fixtures directory is the test's first argument; error texts name files by it.
test_profile_exe = executable('test_profile', 'test_profile.c',
  dependencies : [profile_dep, cmocka_dep, m_dep])
test('profile', test_profile_exe,
  args : [meson.current_source_dir() / 'profiles'],
  suite : 'unit',
  timeout : 60)
