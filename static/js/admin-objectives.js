'use strict';
// The item page's objectives box searches the chosen task's objectives only: every search sends the task along
// (the server filters by it), and changing the task clears objectives picked for the previous one.
document.addEventListener('DOMContentLoaded', () => {
    const $ = django.jQuery;
    const task = document.getElementById('id_task');
    const objectives = document.getElementById('id_objectives');
    if (!task || !objectives) {
        return;  // a frozen version shows both read-only
    }
    const searchUrl = objectives.getAttribute('data-ajax--url');
    $.ajaxPrefilter((options) => {
        if (options.url === searchUrl && typeof options.data === 'string' && options.data.includes('field_name=objectives')) {
            options.data += '&task=' + encodeURIComponent(task.value);
        }
    });
    task.addEventListener('change', () => {
        $(objectives).val(null).trigger('change');
    });
    // After the admin has built the search box (its ready handler runs first): give the box a name.
    $(() => {
        $(objectives).next('.select2').find('.select2-search__field').attr('aria-label', "Search the chosen task's objectives");
    });
});
