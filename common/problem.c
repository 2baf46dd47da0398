/*
 * problem.c - the table of problems. A row's code is an API promise: add rows, never
 * rename one. docs/openapi.yaml lists the same codes.
 */
#include "problem.h"

static const struct problem problems[PROB__MAX] = {
    [PROB_NOT_FOUND] = {404, "not_found", "No such resource"},
    [PROB_METHOD_NOT_ALLOWED] = {405, "method_not_allowed", "Method not allowed"},
    [PROB_BODY_TOO_LARGE] = {413, "body_too_large", "Request body too large"},
    [PROB_INVALID_JSON] = {400, "invalid_json", "Malformed JSON body"},
    [PROB_UNSUPPORTED_MEDIA_TYPE] = {415, "unsupported_media_type", "Unsupported media type"},
    [PROB_VALIDATION_FAILED] = {422, "validation_failed", "Invalid fields"},
    [PROB_USERNAME_TAKEN] = {409, "username_taken", "Username already taken"},
    [PROB_EMAIL_TAKEN] = {409, "email_taken", "Email already registered"},
    [PROB_INVALID_CREDENTIALS] = {401, "invalid_credentials", "Invalid login or password"},
    [PROB_MISSING_TOKEN] = {401, "missing_token", "Authentication required"},
    [PROB_INVALID_TOKEN] = {401, "invalid_token", "Invalid access token"},
    [PROB_TOKEN_EXPIRED] = {401, "token_expired", "Access token expired"},
    [PROB_INVALID_REFRESH_TOKEN] = {401, "invalid_refresh_token", "Invalid refresh token"},
    [PROB_REFRESH_TOKEN_REUSED] = {401, "refresh_token_reused",
                                   "Refresh token reused; session revoked"},
    [PROB_WRONG_PASSWORD] = {403, "wrong_password", "Current password is wrong"},
    [PROB_CURRENT_PASSWORD_REQUIRED] = {422, "current_password_required",
                                        "This change needs currentPassword"},
    [PROB_PASSWORD_TOO_COMMON] = {422, "password_too_common", "Password too common or guessable"},
    [PROB_TOO_MANY_ATTEMPTS] = {429, "too_many_attempts", "Too many attempts; try again later"},
    [PROB_FORBIDDEN] = {403, "forbidden", "Not allowed"},
    [PROB_USER_NOT_FOUND] = {404, "user_not_found", "No such user"},
    [PROB_VIDEO_NOT_FOUND] = {404, "video_not_found", "No such video"},
    [PROB_WEBHOOK_NOT_FOUND] = {404, "webhook_not_found", "No such webhook"},
    [PROB_CHANNEL_NOT_FOUND] = {404, "channel_not_found", "No such channel"},
    [PROB_COMMENT_NOT_FOUND] = {404, "comment_not_found", "No such comment"},
    [PROB_POST_NOT_FOUND] = {404, "post_not_found", "No such post"},
    [PROB_PLAYLIST_NOT_FOUND] = {404, "playlist_not_found", "No such playlist"},
    [PROB_CANNOT_SUBSCRIBE_TO_SELF] = {422, "cannot_subscribe_to_self",
                                       "You cannot subscribe to your own channel"},
    [PROB_COMMENTS_DISABLED] = {403, "comments_disabled", "Comments are turned off here"},
    [PROB_ALREADY_IN_PLAYLIST] = {409, "already_in_playlist",
                                  "The video is already in the playlist"},
    [PROB_PLAYLIST_FULL] = {409, "playlist_full", "The playlist holds its maximum of items"},
    [PROB_INVALID_IMAGE] = {415, "invalid_image", "Not a JPEG, PNG or WebP image"},
    [PROB_TOO_MANY_WEBHOOKS] = {409, "too_many_webhooks", "Too many webhooks"},
    [PROB_UPLOAD_TOO_LARGE] = {413, "upload_too_large", "Upload too large"},
    [PROB_UPLOAD_NOT_FOUND] = {404, "upload_not_found", "No such upload"},
    [PROB_UPLOAD_EXPIRED] = {410, "upload_expired", "The upload expired"},
    [PROB_OFFSET_MISMATCH] = {409, "offset_mismatch", "Upload-Offset is not the upload's offset"},
    [PROB_UPLOAD_LOCKED] = {423, "upload_locked", "Another request is writing this upload"},
    [PROB_CHECKSUM_MISMATCH] = {460, "checksum_mismatch", "Checksum mismatch"},
    [PROB_UNSUPPORTED_CHECKSUM] = {400, "unsupported_checksum", "Unsupported checksum algorithm"},
    [PROB_UNSUPPORTED_TUS_VERSION] = {412, "unsupported_tus_version", "Unsupported tus version"},
    [PROB_INVALID_UPLOAD_HEADER] = {400, "invalid_upload_header", "Malformed upload header"},
    [PROB_INVALID_MULTIPART] = {400, "invalid_multipart", "Malformed multipart body"},
    [PROB_UPLOAD_INCOMPLETE] = {400, "upload_incomplete", "The upload ended early"},
    [PROB_TOO_MANY_UPLOADS] = {503, "too_many_uploads", "Too many uploads at once"},
    [PROB_STORAGE_FULL] = {507, "storage_full", "No space left for media"},
    [PROB_INVALID_QUERY] = {400, "invalid_query", "Invalid query parameter"},
    [PROB_INVALID_CURSOR] = {400, "invalid_cursor", "Invalid cursor"},
    [PROB_INVALID_LINK] = {403, "invalid_link", "Invalid media link"},
    [PROB_LINK_EXPIRED] = {403, "link_expired", "Media link expired"},
    [PROB_DB_UNAVAILABLE] = {503, "db_unavailable", "Database unavailable"},
    [PROB_STORAGE_UNAVAILABLE] = {503, "storage_unavailable", "Media storage unavailable"},
    [PROB_INTERNAL] = {500, "internal", "Internal error"},
};

const struct problem *
problem_get(enum prob p)
{
    return &problems[p < PROB__MAX ? p : PROB_INTERNAL];
}
