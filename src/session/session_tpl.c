/* session_tpl.c -- the built-in pages, English and Korean (htdocs/ and htdocs/ko/ hold the
 * same files for AuthFlowTemplateDir).  One style sheet for every page, phone first, dark
 * mode by prefers-color-scheme, WCAG AA colours (the provider buttons keep their owners'
 * colours); the CSP admits it by its SHA-256 hash (af_session_page_csp).  No remote asset;
 * no script but the re-post page's one, under its response's CSP nonce. */
#include "session/af_session.h"

#define CSS                                                                                        \
    ":root{color-scheme:light dark;--bg:#fff;--fg:#1f1f1f;--muted:#595959;--line:#8c8c8c;"         \
    "--link:#0b57d0;--err:#b3261e}"                                                                \
    "@media(prefers-color-scheme:dark){:root{--bg:#121212;--fg:#e8e8e8;--muted:#b3b3b3;"           \
    "--line:#767676;--link:#8ab4f8;--err:#f2b8b5}"                                                 \
    ".apple{background:#fff!important;border-color:#fff!important;color:#000!important}"           \
    ".google{background:#131314!important;border-color:#8e918f!important;"                         \
    "color:#e3e3e3!important}}"                                                                    \
    "*{box-sizing:border-box}"                                                                     \
    "body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"    \
    "\"Segoe UI\",Roboto,\"Noto Sans KR\",\"Noto Sans CJK KR\",\"Apple SD Gothic Neo\","           \
    "\"NanumGothic\",sans-serif}"                                                                  \
    "main{max-width:24rem;margin:0 auto;padding:2.5rem 1rem}"                                      \
    "h1{font-size:1.5rem;line-height:1.3;margin:0 0 1rem}"                                         \
    "a{color:var(--link)}"                                                                         \
    ".small{font-size:.875rem;color:var(--muted)}"                                                 \
    ".error{color:var(--err)}"                                                                     \
    ".p{list-style:none;margin:1.5rem 0;padding:0}.p li{margin:0 0 .75rem}"                        \
    ".b{display:flex;align-items:center;justify-content:center;gap:.5rem;min-height:3rem;"         \
    "width:100%;padding:.5rem 1rem;border:1px solid var(--line);border-radius:.375rem;"            \
    "background:var(--bg);color:var(--fg);font:inherit;font-weight:600;text-decoration:none;"      \
    "cursor:pointer}"                                                                              \
    ".b svg{width:1.25rem;height:1.25rem;flex:none}"                                               \
    ".kakao{background:#FEE500;border-color:#FEE500;color:rgba(0,0,0,.85);border-radius:.75rem}"   \
    ".naver{background:#03C75A;border-color:#03C75A;color:#fff}"                                   \
    ".apple{background:#000;border-color:#000;color:#fff}"                                         \
    ".google{background:#fff;border-color:#747775;color:#1f1f1f}"                                  \
    ".primary{background:var(--link);border-color:var(--link);color:var(--bg);margin-top:1.25rem}" \
    "label{display:block;margin:.75rem 0 .25rem;font-weight:600}"                                  \
    "input{display:block;width:100%;min-height:3rem;padding:0 .75rem;border:1px solid "            \
    "var(--muted);border-radius:.375rem;background:var(--bg);color:var(--fg);font:inherit}"

#define HEAD(lang, title) HEAD_X(lang, title, "")
#define HEAD_X(lang, title, extra)                                                                 \
    "<!DOCTYPE html>\n"                                                                            \
    "<html lang=\"" lang "\">\n"                                                                   \
    "<head>\n"                                                                                     \
    "<meta charset=\"utf-8\">\n"                                                                   \
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"                   \
    "<meta name=\"color-scheme\" content=\"light dark\">\n" extra "<title>" title "</title>\n"     \
    "<style>" CSS "</style>\n"                                                                     \
    "</head>\n"                                                                                    \
    "<body>\n"                                                                                     \
    "<main>\n"

#define FOOT                                                                                       \
    "</main>\n"                                                                                    \
    "</body>\n"                                                                                    \
    "</html>\n"

static const char chooser_en[] = HEAD("en", "Sign in") "<h1>Sign in</h1>\n"
                                                       "<p>Choose how you want to sign in.</p>\n"
                                                       "<ul class=\"p\">\n"
                                                       "{{providers}}"
                                                       "</ul>\n" FOOT;

static const char chooser_ko[] = HEAD("ko", "로그인") "<h1>로그인</h1>\n"
                                                      "<p>로그인 방법을 선택하세요.</p>\n"
                                                      "<ul class=\"p\">\n"
                                                      "{{providers}}"
                                                      "</ul>\n" FOOT;

static const char error_en[] = HEAD("en", "{{title}}") "<h1>{{title}}</h1>\n"
                                                       "<p>{{message}}</p>\n"
                                                       "{{idp_error}}"
                                                       "<p><a class=\"b primary\" "
                                                       "href=\"{{login_url}}\">Try again</a></p>\n"
                                                       "<p class=\"small\">Reason: "
                                                       "<code>{{reason}}</code> ({{status}})"
                                                       " · Request ID: <code>{{request_id}}</code>"
                                                       "</p>\n" FOOT;

static const char error_ko[] = HEAD("ko", "{{title}}") "<h1>{{title}}</h1>\n"
                                                       "<p>{{message}}</p>\n"
                                                       "{{idp_error}}"
                                                       "<p><a class=\"b primary\" "
                                                       "href=\"{{login_url}}\">다시 시도</a></p>\n"
                                                       "<p class=\"small\">사유: "
                                                       "<code>{{reason}}</code> ({{status}})"
                                                       " · 요청 ID: <code>{{request_id}}</code>"
                                                       "</p>\n" FOOT;

static const char logout_en[] = HEAD("en", "{{title}}") "<h1>{{title}}</h1>\n"
                                                        "<p>{{message}}</p>\n"
                                                        "{{form}}" FOOT;

static const char logout_ko[] = HEAD("ko", "{{title}}") "<h1>{{title}}</h1>\n"
                                                        "<p>{{message}}</p>\n"
                                                        "{{form}}" FOOT;

#define PASSWORD(lang, title, user, pass, submit)                                                  \
    HEAD(lang, title)                                                                              \
    "<h1>" title "</h1>\n"                                                                         \
    "{{error}}"                                                                                    \
    "<form method=\"post\" action=\"{{action}}\">\n"                                               \
    "<input type=\"hidden\" name=\"flow\" value=\"{{flow}}\">\n"                                   \
    "<input type=\"hidden\" name=\"return_to\" value=\"{{return_to}}\">\n"                         \
    "<label for=\"username\">" user "</label>\n"                                                   \
    "<input id=\"username\" name=\"username\" type=\"text\" autocomplete=\"username\" "            \
    "autocapitalize=\"none\" spellcheck=\"false\" required autofocus>\n"                           \
    "<label for=\"password\">" pass "</label>\n"                                                   \
    "<input id=\"password\" name=\"password\" type=\"password\" "                                  \
    "autocomplete=\"current-password\" required>\n"                                                \
    "<button class=\"b primary\" type=\"submit\">" submit "</button>\n"                            \
    "</form>\n" FOOT

static const char password_en[] = PASSWORD("en", "Sign in", "Username", "Password", "Sign in");
static const char password_ko[] = PASSWORD("ko", "로그인", "아이디", "비밀번호", "로그인");

static const char denied_en[] = HEAD(
    "en", "{{title}}") "<h1>{{title}}</h1>\n"
                       "<p>Signed in as <strong>{{name}}</strong></p>\n"
                       "<p>{{message}}</p>\n"
                       "<p><a class=\"b primary\" href=\"{{switch_url}}\">Switch account</a></p>\n"
                       "<p><a href=\"{{logout_url}}\">Sign out</a></p>\n" FOOT;

static const char denied_ko[] = HEAD(
    "ko",
    "{{title}}") "<h1>{{title}}</h1>\n"
                 "<p><strong>{{name}}</strong>(으)로 로그인됨</p>\n"
                 "<p>{{message}}</p>\n"
                 "<p><a class=\"b primary\" href=\"{{switch_url}}\">다른 계정으로 로그인</a></p>\n"
                 "<p><a href=\"{{logout_url}}\">로그아웃</a></p>\n" FOOT;

/* The form_post re-post (session_apple.c): {{fields}} are the escaped hidden inputs, the
 * script runs under the response's CSP nonce; without script, the button. */
#define REPOST(lang, title, step, submit)                                                          \
    HEAD(lang, title)                                                                              \
    "<h1>" title "</h1>\n"                                                                         \
    "<form id=\"repost\" method=\"post\" action=\"{{action}}\">\n"                                 \
    "{{fields}}"                                                                                   \
    "<noscript><p>" step "</p>\n"                                                                  \
    "<button class=\"b primary\" type=\"submit\">" submit "</button></noscript>\n"                 \
    "</form>\n"                                                                                    \
    "</main>\n"                                                                                    \
    "<script nonce=\"{{nonce}}\">document.getElementById('repost').submit();</script>\n"           \
    "</body>\n"                                                                                    \
    "</html>\n"

static const char repost_en[] =
    REPOST("en", "Signing in…", "Your sign-in needs one more step.", "Continue");
static const char repost_ko[] =
    REPOST("ko", "로그인하는 중…", "로그인을 마치려면 한 단계가 더 필요합니다.", "계속");

/* After the login with AuthFlowCookieSameSite Strict: on to {{url}} from a page of our own. */
#define SIGNEDIN(lang, title, text, cont)                                                          \
    HEAD_X(lang, title, "<meta http-equiv=\"refresh\" content=\"0;url={{url}}\">\n")               \
    "<h1>" title "</h1>\n"                                                                         \
    "<p>" text "</p>\n"                                                                            \
    "<p><a class=\"b primary\" href=\"{{url}}\">" cont "</a></p>\n" FOOT

static const char signedin_en[] =
    SIGNEDIN("en", "Signed in", "You are signed in and will be taken back.", "Continue");
static const char signedin_ko[] =
    SIGNEDIN("ko", "로그인됨", "로그인되었습니다. 곧 원래 페이지로 이동합니다.", "계속");

const char *const af_session_builtin[AF_LANG_N][AF_PAGE_N] = {
    {chooser_en, error_en, logout_en, password_en, denied_en, repost_en, signedin_en},
    {chooser_ko, error_ko, logout_ko, password_ko, denied_ko, repost_ko, signedin_ko},
};
